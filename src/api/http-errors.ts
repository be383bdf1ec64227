import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_CODES, TaskyardError, type ErrorCode } from '../errors.js';
import { isRedisUnavailableError } from '../engine/redis-connection.js';
import { isUnavailableError } from '../history/database.js';

/** Fastify's own error codes, mapped onto ours. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'TASKYARD_ERR_INVALID_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'TASKYARD_ERR_INVALID_JSON',
  FST_ERR_CTP_BODY_TOO_LARGE: 'TASKYARD_ERR_BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'TASKYARD_ERR_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'TASKYARD_ERR_BAD_REQUEST',
  FST_ERR_CTP_INVALID_TYPE: 'TASKYARD_ERR_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_VALIDATION: 'TASKYARD_ERR_VALIDATION',
  FST_ERR_BAD_URL: 'TASKYARD_ERR_BAD_REQUEST',
  FST_ERR_ASYNC_CONSTRAINT: 'TASKYARD_ERR_BAD_REQUEST',
};

export function errorBody(code: ErrorCode, message?: string, details?: unknown): { error: { code: string; message: string; details?: unknown } } {
  return { error: new TaskyardError(code, message, details).toJSON() };
}

/** Every error leaves as `{ error: { code, message, details? } }`; nothing unexpected leaks. */
export function sendError(error: FastifyError | TaskyardError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error instanceof TaskyardError) {
    // Refusals that pass by themselves say when to come back.
    if (error.statusCode === 429 || error.statusCode === 503) reply.header('retry-after', error.statusCode === 429 ? '2' : '1');
    return reply.status(error.statusCode).send({ error: error.toJSON() });
  }
  // Fastify's JSON parser reports bad JSON as a SyntaxError with status 400.
  const mapped = FASTIFY_CODES[error.code ?? ''] ?? (error instanceof SyntaxError ? 'TASKYARD_ERR_INVALID_JSON' : undefined);
  if (mapped) {
    return reply.status(ERROR_CODES[mapped].status).send(errorBody(mapped, error.message));
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    return reply.status(status).send(errorBody('TASKYARD_ERR_BAD_REQUEST', error.message));
  }
  if (isUnavailableError(error) || isRedisUnavailableError(error)) {
    request.log.warn({ err: error }, 'database unavailable');
    return reply.status(503).header('retry-after', '1').send(errorBody('TASKYARD_ERR_NOT_READY', 'The database is unreachable; try again shortly'));
  }
  request.log.error({ err: error }, 'request failed');
  return reply.status(500).send(errorBody('TASKYARD_ERR_INTERNAL'));
}

export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler(sendError);
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send(errorBody('TASKYARD_ERR_ROUTE_NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}`)),
  );
}
