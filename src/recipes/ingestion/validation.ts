// Validating an event against its app's rules: each event's JSON Schema is
// compiled once with ajv, then every event is a call of the compiled function.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { TaskyardError } from '../../errors.js';
import type { EventStatus, ValidationIssue } from './types.js';

export interface ValidationResult {
  status: EventStatus;
  errors?: ValidationIssue[];
}

/** An app's rules, ready to run. */
export interface CompiledRules {
  readonly appId: string;
  validate(eventName: string, payload: Record<string, unknown>): ValidationResult;
}

/**
 * Compiles every event's schema; a schema ajv refuses (not JSON Schema, an
 * unknown keyword, a bad `$ref`) is a 400 naming the event. One ajv instance
 * per app: apps' `$id`s cannot clash, and dropping an app drops its code.
 */
export function compileRules(appId: string, events: Readonly<Record<string, Record<string, unknown>>>): CompiledRules {
  const ajv = new Ajv({
    // Unknown keywords are errors: a typo such as "requried" must not silently accept everything.
    strictSchema: true,
    strictTypes: false,
    strictTuples: false,
    strictRequired: false,
    allowUnionTypes: true,
    // First error only: ajv's advice for untrusted data (allErrors lets a payload make validation slow).
    allErrors: false,
    logger: false,
  });
  for (const [name, check] of Object.entries(FORMATS)) ajv.addFormat(name, { type: 'string', validate: check });
  const validators = new Map<string, ValidateFunction>();
  for (const [eventName, schema] of Object.entries(events)) {
    try {
      validators.set(eventName, ajv.compile(schema));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new TaskyardError('TASKYARD_ERR_VALIDATION', `Invalid JSON Schema for event "${eventName}": ${message}`, [{ path: `events.${eventName}`, message }]);
    }
  }
  const known = [...validators.keys()].sort().join(', ');
  return {
    appId,
    validate(eventName, payload) {
      const validator = Object.hasOwn(events, eventName) ? validators.get(eventName) : undefined;
      if (!validator) {
        return { status: 'invalid', errors: [{ path: '/eventName', message: `unknown event "${eventName.slice(0, 100)}" for app "${appId}" (known: ${known})` }] };
      }
      if (validator(payload)) return { status: 'valid' };
      return { status: 'invalid', errors: (validator.errors ?? []).slice(0, 10).map(issue) };
    },
  };
}

/** ajv's error as a JSON Pointer to the offending field and a short message. */
function issue(error: ErrorObject): ValidationIssue {
  const params = error.params as { missingProperty?: unknown; additionalProperty?: unknown };
  if (error.keyword === 'required' && typeof params.missingProperty === 'string') {
    return { path: `${error.instancePath}/${pointerToken(params.missingProperty)}`, message: 'is required' };
  }
  if (error.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') {
    return { path: `${error.instancePath}/${pointerToken(params.additionalProperty)}`, message: 'is not allowed' };
  }
  return { path: error.instancePath, message: error.message ?? `fails "${error.keyword}"` };
}

const pointerToken = (key: string): string => key.slice(0, 200).replaceAll('~', '~0').replaceAll('/', '~1');

/**
 * The common `format`s, written out: none backtracks, whatever the input.
 * (Strict ajv refuses a format it does not know, so schemas using others are 400s.)
 */
const FORMATS: Record<string, (value: string) => boolean> = {
  email: (value) => {
    const at = value.indexOf('@');
    const domain = value.slice(at + 1);
    return (
      value.length <= 254 &&
      at > 0 &&
      at === value.lastIndexOf('@') &&
      !/\s/.test(value) &&
      domain.includes('.') &&
      !domain.startsWith('.') &&
      !domain.endsWith('.')
    );
  },
  date: (value) => /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(`${value}T00:00:00Z`)),
  'date-time': (value) => /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/.test(value) && !Number.isNaN(Date.parse(value)),
  uri: (value) => /^[A-Za-z][A-Za-z0-9+.-]*:/.test(value) && URL.canParse(value),
  uuid: (value) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value),
};
