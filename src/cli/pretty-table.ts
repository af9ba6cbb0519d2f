// The box-drawn tables OPA's pretty output prints (`opa eval -f pretty`, metrics, `opa bench`): headers centred
// (a table without headers has no header row), cells left-aligned unless their column is right-aligned, one space
// of padding, widths in terminal columns as OPA counts them (go-runewidth): a wide East Asian character or an
// emoji takes two, a combining mark or a zero-width joiner none.

/** Code points a terminal shows two columns wide: East Asian Wide and Fullwidth blocks, and emoji. */
const WIDE = /[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\u{20000}-\u{3fffd}]|\p{Emoji_Presentation}/u;
const ZERO_WIDTH = /[\p{M}\u200b-\u200f\ufe00-\ufe0f\ufeff]/u;

/** How many terminal columns a text takes. */
export function displayWidth(text: string): number {
  let columns = 0;
  for (const c of text) columns += ZERO_WIDTH.test(c) ? 0 : WIDE.test(c) ? 2 : 1;
  return columns;
}

export function prettyTable(headers: string[], rows: string[][], rightAligned: boolean[] = []): string {
  const width = displayWidth;
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
