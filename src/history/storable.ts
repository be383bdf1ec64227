/** How deep JSON may nest to be stored (deeper values overflow serialisers' stacks). */
export const MAX_JSON_DEPTH = 100;

/**
 * Why a JSON value cannot be stored in a jsonb column, or undefined when it can:
 * PostgreSQL refuses the NUL character (\u0000) in jsonb strings and keys, and
 * very deep nesting breaks serialisation. Walks without recursion.
 */
export function storableProblem(value: unknown, maxDepth = MAX_JSON_DEPTH): string | undefined {
  const stack: Array<{ item: unknown; depth: number }> = [{ item: value, depth: 0 }];
  for (let next = stack.pop(); next; next = stack.pop()) {
    const { item, depth } = next;
    if (typeof item === 'string') {
      if (item.includes('\u0000')) return 'contains the NUL character (\\u0000), which cannot be stored';
      continue;
    }
    if (item === null || typeof item !== 'object') continue;
    if (depth >= maxDepth) return `nests deeper than ${maxDepth} levels`;
    for (const [key, child] of Object.entries(item)) {
      if (key.includes('\u0000')) return 'has a key with the NUL character (\\u0000), which cannot be stored';
      stack.push({ item: child, depth: depth + 1 });
    }
  }
  return undefined;
}
