// The character diff `verdict fmt -d` prints, in the shape `opa fmt -d` prints it: unchanged text as is, removed
// text in red and added text in green (ANSI colours), each line of a change coloured on its own.
type Op = { kind: 'equal' | 'delete' | 'insert'; text: string };

/** The shortest edit script from `a` to `b` (Myers' O(ND) algorithm over UTF-16 code units). */
export function charDiff(a: string, b: string): Op[] {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const ops: Op[] = [];
  const push = (kind: Op['kind'], text: string) => {
    if (text === '') return;
    const last = ops[ops.length - 1];
    if (last?.kind === kind) last.text += text;
    else ops.push({ kind, text });
  };
  push('equal', a.slice(0, start));
  for (const op of middle(a.slice(start, endA), b.slice(start, endB))) push(op.kind, op.text);
  push('equal', a.slice(endA));
  return ops;
}

function middle(a: string, b: string): Op[] {
  const n = a.length;
  const m = b.length;
  const max = n + m;
  const v = new Int32Array(2 * max + 2);
  const trace: Int32Array[] = [];
  for (let d = 0; d <= max; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[max + k - 1] < v[max + k + 1]) ? v[max + k + 1] : v[max + k - 1] + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[max + k] = x;
      if (x >= n && y >= m) return backtrack(trace, a, b, d, max);
    }
  }
  return [];
}

function backtrack(trace: Int32Array[], a: string, b: string, dEnd: number, max: number): Op[] {
  const ops: Op[] = [];
  let x = a.length;
  let y = b.length;
  for (let d = dEnd; d > 0; d--) {
    const v = trace[d];
    const k = x - y;
    const prevK = k === -d || (k !== d && v[max + k - 1] < v[max + k + 1]) ? k + 1 : k - 1;
    const prevX = v[max + prevK];
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      ops.push({ kind: 'equal', text: a[x - 1] });
      x--;
      y--;
    }
    if (x === prevX) ops.push({ kind: 'insert', text: b[y - 1] });
    else ops.push({ kind: 'delete', text: a[x - 1] });
    x = prevX;
    y = prevY;
  }
  while (x > 0 && y > 0) {
    ops.push({ kind: 'equal', text: a[x - 1] });
    x--;
    y--;
  }
  return ops.reverse();
}

const COLOUR = { delete: '\x1b[31m', insert: '\x1b[32m' } as const;
const RESET = '\x1b[0m';

export function prettyDiff(a: string, b: string): string {
  return charDiff(a, b)
    .map((op) => (op.kind === 'equal' ? op.text : op.text.split('\n').map((line) => `${COLOUR[op.kind as keyof typeof COLOUR]}${line}${RESET}`).join('\n')))
    .join('');
}
