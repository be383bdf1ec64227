import { contextOf, SpanKind, tracer, tracingOn, type TraceCarrier } from './tracing.js';

export interface DeliveryTrace {
  /** One more event handed to the client. */
  sent(): void;
  /** The stream ended (terminal event sent, client gone, unsubscribed). */
  end(): void;
}

const OFF: DeliveryTrace = { sent: () => undefined, end: () => undefined };

/**
 * A span in the job's trace for one client's stream of its events: from the
 * subscription to its end, with the number of events it was handed. The job's
 * trace context is looked up only when tracing is on (and the span is dropped
 * when the job carries none).
 */
export function traceDelivery(lookup: () => Promise<TraceCarrier | undefined>, attributes: Record<string, string | number>): DeliveryTrace {
  if (!tracingOn()) return OFF;
  const startTime = Date.now();
  const carrier = lookup().catch(() => undefined);
  let events = 0;
  let ended = false;
  return {
    sent: () => {
      events++;
    },
    end: () => {
      if (ended) return;
      ended = true;
      const endTime = Date.now();
      void carrier.then((found) => {
        if (!found) return;
        tracer()
          .startSpan('deliver events', { kind: SpanKind.PRODUCER, startTime, attributes: { ...attributes, 'taskyard.events': events } }, contextOf(found))
          .end(endTime);
      });
    },
  };
}
