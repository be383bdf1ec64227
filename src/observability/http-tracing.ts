import { context, SpanKind, SpanStatusCode, trace, type Context, type Span } from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { contextOf, tracer, tracingOn } from './tracing.js';

const spans = new WeakMap<FastifyRequest, { span: Span; ctx: Context }>();

/**
 * A server span per HTTP request, continuing the caller's trace (`traceparent`),
 * named by route pattern. The handler runs with it active, so what it starts
 * (an enqueue, and the job's runs through the context the job carries) joins
 * the request's trace.
 */
export function httpTracing(app: FastifyInstance): void {
  app.addHook('onRequest', (request, _reply, done) => {
    if (!tracingOn()) return done();
    const parent = contextOf(request.headers);
    const route = request.routeOptions.url ?? 'unmatched';
    const span = tracer().startSpan(
      `${request.method} ${route}`,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': request.method, 'http.route': route, 'url.path': request.url.split('?')[0]! } },
      parent,
    );
    spans.set(request, { span, ctx: trace.setSpan(parent, span) });
    done();
  });
  // After the body is read: the handler, called from `done`, runs inside the span's context.
  app.addHook('preHandler', (request, _reply, done) => {
    const entry = spans.get(request);
    if (entry) context.with(entry.ctx, done);
    else done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    const entry = spans.get(request);
    if (entry) {
      entry.span.setAttribute('http.response.status_code', reply.statusCode);
      if (reply.statusCode >= 500) entry.span.setStatus({ code: SpanStatusCode.ERROR });
      entry.span.end();
      spans.delete(request);
    }
    done();
  });
}
