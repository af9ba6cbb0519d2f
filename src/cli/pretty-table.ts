// The box-drawn tables OPA's pretty output prints (`opa eval -f pretty`, metrics, `opa bench`): headers centred
// (a table without headers has no header row), cells left-aligned unless their column is right-aligned, one space
// of padding, widths in characters.

export function prettyTable(headers: string[], rows: string[][], rightAligned: boolean[] = []): string {
  const width = (s: string) => [...s].length;
  const columns = Math.max(headers.length, ...rows.map((r) => r.length));
  const widths = Array.from({ length: columns }, (_, i) => Math.max(width(headers[i] ?? ''), ...rows.map((r) => width(r[i] ?? ''))));
  const line = (l: string, m: string, r: string) => l + widths.map((w) => '─'.repeat(w + 2)).join(m) + r;
  const centre = (s: string, w: number) => {
    const gap = w - width(s);
    const left = Math.floor(gap / 2);
    return ' '.repeat(left) + s + ' '.repeat(gap - left);
  };
  const pad = (c: string, i: number) => (rightAligned[i] ? ' '.repeat(widths[i]! - width(c)) + c : c + ' '.repeat(widths[i]! - width(c)));
  const out = [line('┌', '┬', '┐')];
  if (headers.length > 0) out.push(`│ ${headers.map((h, i) => centre(h, widths[i]!)).join(' │ ')} │`, line('├', '┼', '┤'));
  for (const r of rows) out.push(`│ ${r.map(pad).join(' │ ')} │`);
  out.push(line('└', '┴', '┘'));
  return out.join('\n');
}
