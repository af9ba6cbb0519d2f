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
  for (const segment of segments) {
    if (Array.isArray(node) && /^\d+$/.test(segment)) node = node[Number(segment)];
    else if (node !== null && typeof node === 'object' && !Array.isArray(node)) {
      node = Object.prototype.hasOwnProperty.call(node, segment) ? (node as Record<string, unknown>)[segment] : undefined;
    } else return undefined;
  }
  return node;
}
