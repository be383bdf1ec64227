import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span, type Tracer } from '@opentelemetry/api';

/**
 * OpenTelemetry for Taskyard: spans go to whatever tracer provider the process
 * registered (the CLI registers one when the standard OTEL_* variables ask
 * for it). With none registered the API hands out no-op spans and an empty
 * propagator, so tracing that is off costs a few calls per job, nothing more.
 */

/** W3C trace context as carried inside a job (`traceparent`, `tracestate`). */
export type TraceCarrier = Record<string, string>;

export function tracer(): Tracer {
  return trace.getTracer('taskyard');
}

/** Whether a propagator is installed: only then is there context worth carrying or looking up. */
export function tracingOn(): boolean {
  return propagation.fields().length > 0;
}

/** The active context (or `ctx`) as a carrier for a job; undefined when tracing is off. */
export function carrierOf(ctx: Context = context.active()): TraceCarrier | undefined {
  const carrier: TraceCarrier = {};
  propagation.inject(ctx, carrier);
  return Object.keys(carrier).length > 0 ? carrier : undefined;
}

/** The context a carrier holds (the root context without one). */
export function contextOf(carrier: unknown): Context {
  if (!carrier || typeof carrier !== 'object') return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, carrier as TraceCarrier);
}

/** Runs `fn` inside a new active span; ends it, with the error recorded if `fn` throws. */
export async function inSpan<T>(name: string, attributes: Record<string, string | number>, fn: (span: Span) => Promise<T>, kind: SpanKind = SpanKind.INTERNAL): Promise<T> {
  return tracer().startActiveSpan(name, { kind, attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      failSpan(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}

export function failSpan(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : new Error(String(error)));
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
}

/** The ids a log line about a span carries (none for a no-op span). */
export function traceFields(span: Span | undefined): { trace_id?: string; span_id?: string } {
  const ids = span?.spanContext();
  return ids && trace.isSpanContextValid(ids) ? { trace_id: ids.traceId, span_id: ids.spanId } : {};
}

/** The standard variables that turn tracing on and shape it (the SDK reads more: OTEL_BSP_*, OTEL_TRACES_SAMPLER…). */
export const OTEL_VARIABLES = [
  'OTEL_SDK_DISABLED',
  'OTEL_TRACES_EXPORTER',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  'OTEL_EXPORTER_OTLP_PROTOCOL',
  'OTEL_SERVICE_NAME',
  'OTEL_RESOURCE_ATTRIBUTES',
  'OTEL_TRACES_SAMPLER',
  'OTEL_TRACES_SAMPLER_ARG',
] as const;

const wanted = (env: NodeJS.ProcessEnv): boolean => {
  if (String(env.OTEL_SDK_DISABLED).toLowerCase() === 'true') return false;
  const exporter = env.OTEL_TRACES_EXPORTER?.trim().toLowerCase();
  if (exporter) return exporter !== 'none';
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
};

/**
 * Registers a tracer provider when the standard variables ask for one:
 * `OTEL_TRACES_EXPORTER` (`otlp`, the default once an OTLP endpoint is set, or
 * `console`), `OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT`, `OTEL_SERVICE_NAME`,
 * `OTEL_TRACES_SAMPLER`… The SDK is loaded only then. Returns the function that
 * flushes and shuts it down, or undefined when tracing stays off.
 */
export async function startTracingFromEnv(defaultServiceName: string, env: NodeJS.ProcessEnv = process.env): Promise<(() => Promise<void>) | undefined> {
  if (!wanted(env)) return undefined;
  const [{ NodeTracerProvider, BatchSpanProcessor, ConsoleSpanExporter }, { detectResources, envDetector, resourceFromAttributes }] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/resources'),
  ]);
  const exporterName = env.OTEL_TRACES_EXPORTER?.trim().toLowerCase() || 'otlp';
  const exporter =
    exporterName === 'console'
      ? new ConsoleSpanExporter()
      : new (await import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter();
  // OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES win over the role's default name.
  const resource = resourceFromAttributes({ 'service.name': defaultServiceName }).merge(detectResources({ detectors: [envDetector] }));
  const provider = new NodeTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(exporter)] });
  provider.register();
  return () => provider.shutdown();
}

export { SpanKind, SpanStatusCode, context, trace, type Span, type Context };
