// Turns a task's JSON Schema into the fields of its Run form. What it cannot render as a
// plain control becomes a JSON textarea for that property.
import type { JsonSchema } from '../api/types';

export type Simple = 'string' | 'number' | 'integer' | 'boolean';

interface Base {
  /** Dotted path below `input`, e.g. `options.mode`: the control's name and test id. */
  path: string;
  label: string;
  description: string | undefined;
  required: boolean;
  /** `null` is an allowed value (anyOf with {type: "null"}). */
  nullable: boolean;
  schema: JsonSchema;
}

type Kind =
  | { kind: 'text' }
  | { kind: 'number'; integer: boolean }
  | { kind: 'boolean' }
  | { kind: 'choice'; options: unknown[] }
  | { kind: 'const'; value: unknown }
  | { kind: 'union'; types: Simple[] }
  | { kind: 'list'; item: Simple }
  | { kind: 'object'; fields: Field[] }
  | { kind: 'json' };

export type Field = Base & Kind;

const SIMPLE: readonly string[] = ['string', 'number', 'integer', 'boolean'];
const isSimple = (type: unknown): type is Simple => typeof type === 'string' && SIMPLE.includes(type);
const isScalar = (value: unknown): boolean => value === null || ['string', 'number', 'boolean'].includes(typeof value);

/** `type: ["string", "null"]` and `anyOf: [X, {type: "null"}]` both read as X, nullable. */
function withoutNull(schema: JsonSchema): { schema: JsonSchema; nullable: boolean } {
  if (Array.isArray(schema.type)) {
    const types = schema.type.filter((type) => type !== 'null');
    const nullable = types.length < schema.type.length;
    if (types.length === 1) return { schema: { ...schema, type: types[0] as string }, nullable };
    return { schema: { ...schema, type: types }, nullable };
  }
  const variants = schema.anyOf ?? schema.oneOf;
  if (variants) {
    const rest = variants.filter((variant) => variant.type !== 'null');
    const nullable = rest.length < variants.length;
    if (rest.length === 1 && rest[0]) {
      const { anyOf: _a, oneOf: _o, ...outer } = schema;
      return { schema: { ...outer, ...rest[0] }, nullable };
    }
    if (nullable) {
      const { anyOf: _a, oneOf: _o, ...outer } = schema;
      return { schema: { ...outer, anyOf: rest }, nullable };
    }
  }
  return { schema, nullable: false };
}

function kindOf(schema: JsonSchema, path: string): Kind {
  if ('const' in schema) return { kind: 'const', value: schema.const };
  if (schema.enum && schema.enum.every(isScalar)) return { kind: 'choice', options: schema.enum };
  const variants = schema.anyOf ?? schema.oneOf;
  if (variants) {
    if (variants.every((v) => 'const' in v && isScalar(v.const))) return { kind: 'choice', options: variants.map((v) => v.const) };
    if (variants.every((v) => v.enum?.every(isScalar) || ('const' in v && isScalar(v.const)))) {
      return { kind: 'choice', options: variants.flatMap((v) => v.enum ?? [v.const]) };
    }
    // e.g. a pattern-checked string or the literal "*": one text control, the server judges.
    if (variants.every((v) => isSimple(v.type))) {
      return { kind: 'union', types: [...new Set(variants.map((v) => v.type as Simple))] };
    }
    return { kind: 'json' };
  }
  if (Array.isArray(schema.type)) {
    return schema.type.every(isSimple) ? { kind: 'union', types: schema.type as Simple[] } : { kind: 'json' };
  }
  switch (schema.type) {
    case 'string':
      return { kind: 'text' };
    case 'number':
    case 'integer':
      return { kind: 'number', integer: schema.type === 'integer' };
    case 'boolean':
      return { kind: 'boolean' };
    case 'array': {
      const item = schema.items;
      return item && isSimple(item.type) && !item.enum && !item.anyOf ? { kind: 'list', item: item.type } : { kind: 'json' };
    }
    case 'object':
      return schema.properties ? { kind: 'object', fields: fieldsOf(schema, path) } : { kind: 'json' };
    default:
      return { kind: 'json' };
  }
}

const title = (name: string): string => name.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/[-_]/g, ' ').replace(/^./, (c) => c.toUpperCase());

/** The fields of an object schema's properties, in schema order. */
export function fieldsOf(schema: JsonSchema, prefix = ''): Field[] {
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties ?? {}).map(([name, raw]) => {
    const path = prefix ? `${prefix}.${name}` : name;
    const { schema: inner, nullable } = withoutNull(raw);
    const base: Base = {
      path,
      label: inner.title ?? title(name),
      description: inner.description ?? raw.description,
      required: required.has(name),
      nullable,
      schema: { ...inner, ...(raw.default !== undefined ? { default: raw.default } : {}) },
    };
    return { ...base, ...kindOf(inner, path) };
  });
}

/** Every control of a field tree (objects flattened into their leaves). */
export function leaves(fields: Field[]): Field[] {
  return fields.flatMap((field) => (field.kind === 'object' ? leaves(field.fields) : [field]));
}
