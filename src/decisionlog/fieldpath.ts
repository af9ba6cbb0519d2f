// Dotted field paths such as `input.subject.id` or `result.allowed`, used by configuration (principal
// sources, outcome rule) and by the query API's field filters. Segments are object keys; a segment of
// digits also indexes arrays.

export function parseFieldPath(text: string, root: string): string[] {
  const segments = text.split('.');
  if (segments[0] !== root || segments.some((s) => s === '')) {
    throw new Error(`field path ${JSON.stringify(text)} must look like ${root}.key.key (dot-separated, starting with "${root}")`);
  }
  return segments.slice(1);
}

export function valueAt(value: unknown, segments: readonly string[]): unknown {
  let node = value;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    if (node === null || typeof node !== 'object') return undefined;
    if (Array.isArray(node)) {
      if (!/^\d+$/.test(segment)) return undefined;
      node = node[Number(segment)];
      continue;
    }
    // Most paths miss (the log asks each event for several principal sources): a read that finds nothing needs no
    // check that the member is the object's own.
    const next = (node as Record<string, unknown>)[segment];
    node = next !== undefined && Object.prototype.hasOwnProperty.call(node, segment) ? next : undefined;
  }
  return node;
}
