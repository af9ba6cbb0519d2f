// print(): the planner compiles `print(a, b)` into a call of internal.print with one set per operand (empty
// when the operand is undefined), and the host writes the operands on one line, separated by spaces: strings
// as they are, undefined as <undefined>, other values as Rego text. Where the line goes depends on the front
// end: stderr by default (`verdict eval`, as `opa eval`), the running test's output in `verdict test`.
import { regoText } from './sprintf.js';
import { keepsNumberText } from './rego-value.js';
import { stderrStream } from '../log/stderr.js';

let sink: (line: string) => void = (line) => stderrStream().write(`${line}\n`);

/** Sends print()'s lines to `write` from now on. */
export function setPrintSink(write: (line: string) => void): void {
  sink = write;
}

function printOperand(values: unknown[]): string {
  if (values.length === 0) return '<undefined>';
  return values.map((v) => (typeof v === 'string' ? v : regoText(v))).join(', ');
}

/** internal.print([set, ...]): each set holds the operand's value, or nothing when it was undefined. */
export const printHost = keepsNumberText((operands: unknown[][]) => {
  sink(operands.map(printOperand).join(' '));
  return undefined;
});
