// The Run form's state (one raw string or boolean per control) and the task input built from it.
import type { Field, Simple } from './schema-fields';

export type RawValues = Record<string, string | boolean>;

/** A choice's option value, as the <select> holds it. */
export const optionKey = (value: unknown): string => JSON.stringify(value);

function rawOf(field: Field, value: unknown): string | boolean {
  switch (field.kind) {
    case 'boolean':
      return value === true;
    case 'choice':
      return value === undefined ? '' : optionKey(value);
    case 'list':
      return Array.isArray(value) ? value.map(String).join('\n') : '';
    case 'json':
      return value === undefined ? '' : JSON.stringify(value, null, 2);
    case 'const':
      return optionKey(field.value);
    default:
      return value === undefined || value === null ? '' : String(value);
  }
}

/** The form as it opens: every default filled in. */
export function initialValues(fields: Field[], parentDefault?: Record<string, unknown>): RawValues {
  const values: RawValues = {};
  for (const field of fields) {
    const name = field.path.split('.').at(-1) ?? field.path;
    const value = field.schema.default ?? parentDefault?.[name];
    if (field.kind === 'object') {
      Object.assign(values, initialValues(field.fields, typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined));
    } else values[field.path] = rawOf(field, value);
  }
  return values;
}

type Parsed = { value: unknown } | { error: string } | { omit: true };

function simple(type: Simple, text: string): { value: unknown } | undefined {
  if (type === 'string') return { value: text };
  if (type === 'boolean') return text === 'true' || text === 'false' ? { value: text === 'true' } : undefined;
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || (type === 'integer' && !Number.isInteger(n))) return undefined;
  return { value: n };
}

function parse(field: Field, raw: string | boolean | undefined): Parsed {
  if (field.kind === 'boolean') return { value: raw === true };
  if (field.kind === 'const') return { value: field.value };
  const text = typeof raw === 'string' ? raw : '';
  if (text.trim() === '' && field.kind !== 'text') {
    if (field.nullable && field.required) return { value: null };
    return field.required ? { error: 'Required' } : { omit: true };
  }
  if (text === '' && field.kind === 'text' && !field.required) return { omit: true };
  switch (field.kind) {
    case 'text':
      return { value: text };
    case 'number':
      return simple(field.integer ? 'integer' : 'number', text) ?? { error: field.integer ? 'Must be a whole number' : 'Must be a number' };
    case 'choice':
      return { value: JSON.parse(text) as unknown };
    case 'union': {
      // Most specific first: "42" is the number 42 when a number is allowed.
      const order: Simple[] = ['boolean', 'integer', 'number', 'string'];
      for (const type of order.filter((t) => field.types.includes(t))) {
        const parsed = simple(type, text);
        if (parsed) return parsed;
      }
      return { error: `Must be ${field.types.join(' or ')}` };
    }
    case 'list': {
      const items = text.split('\n').map((line) => line.trim()).filter(Boolean);
      const values: unknown[] = [];
      for (const item of items) {
        const parsed = simple(field.item, item);
        if (!parsed) return { error: `"${item}" is not a ${field.item}` };
        values.push(parsed.value);
      }
      return { value: values };
    }
    case 'json':
      try {
        return { value: JSON.parse(text) as unknown };
      } catch {
        return { error: 'Not valid JSON' };
      }
    case 'object':
      return { omit: true };
  }
}

/** The `input` object for the API, or the fields whose text cannot be read (JSON, numbers). */
export function buildInput(fields: Field[], raw: RawValues): { input: Record<string, unknown>; errors: Record<string, string> } {
  const input: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const field of fields) {
    const name = field.path.split('.').at(-1) ?? field.path;
    if (field.kind === 'object') {
      const inner = buildInput(field.fields, raw);
      Object.assign(errors, inner.errors);
      if (field.required || Object.keys(inner.input).length > 0) input[name] = inner.input;
      continue;
    }
    const parsed = parse(field, raw[field.path]);
    if ('error' in parsed) errors[field.path] = parsed.error;
    else if ('value' in parsed) input[name] = parsed.value;
  }
  return { input, errors };
}
