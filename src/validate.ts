import type { z } from 'zod';
import { TaskyardError } from './errors.js';

export interface FieldError {
  path: string;
  message: string;
}

/** zod issues as `[{ path: "input.digits", message }]`, for 400 details. */
export function fieldErrors(error: z.ZodError, prefix?: string): FieldError[] {
  return error.issues.map((issue) => ({
    path: [prefix, ...issue.path.map(String)].filter((part) => part !== undefined && part !== '').join('.'),
    message: issue.message,
  }));
}

/** Parses or throws a 400 TASKYARD_ERR_VALIDATION naming the fields. */
export function parseOr400<S extends z.ZodType>(schema: S, value: unknown, what: string, prefix?: string): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) {
    const details = fieldErrors(result.error, prefix);
    const first = details[0];
    throw new TaskyardError(
      'TASKYARD_ERR_VALIDATION',
      `Invalid ${what}${first ? `: ${first.path ? `${first.path}: ` : ''}${first.message}` : ''}`,
      details,
    );
  }
  return result.data;
}
