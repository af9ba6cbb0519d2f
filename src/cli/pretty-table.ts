// The box-drawn tables OPA's pretty output prints (`opa eval -f pretty`, metrics): headers centred, cells
// left-aligned, one space of padding, widths in characters.

export function prettyTable(headers: string[], rows: string[][]): string {
  const width = (s: string) => [...s].length;
  const widths = headers.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i] ?? ''))));
  const line = (l: string, m: string, r: string) => l + widths.map((w) => '─'.repeat(w + 2)).join(m) + r;
  const centre = (s: string, w: number) => {
    const gap = w - width(s);
    const left = Math.floor(gap / 2);
    return ' '.repeat(left) + s + ' '.repeat(gap - left);
  };
  const out = [line('┌', '┬', '┐'), `│ ${headers.map((h, i) => centre(h, widths[i]!)).join(' │ ')} │`, line('├', '┼', '┤')];
  for (const r of rows) out.push(`│ ${r.map((c, i) => c + ' '.repeat(widths[i]! - width(c))).join(' │ ')} │`);
  out.push(line('└', '┴', '┘'));
  return out.join('\n');
}
