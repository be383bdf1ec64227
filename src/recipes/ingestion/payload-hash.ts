import { createHash } from 'node:crypto';

/**
 * SHA-256 (hex) of a payload's canonical JSON: object keys sorted at every
 * level, so `{"a":1,"b":2}` and `{"b":2,"a":1}` are the same payload.
 */
export function payloadHash(payload: unknown): string {
  return createHash('sha256').update(canonicalJson(payload)).digest('hex');
}

export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) return item;
    // No prototype: a key named "__proto__" stays a plain key.
    const sorted = Object.create(null) as Record<string, unknown>;
    for (const key of Object.keys(item).sort()) sorted[key] = (item as Record<string, unknown>)[key];
    return sorted;
  });
}
