// The explanation modes and the refusal of what cannot be explained, apart from the evaluator so that a command
// can check an --explain flag without loading the interpreter.
import type { Location } from '../ast.js';

export const EXPLAIN_MODES = ['notes', 'fails', 'full', 'debug'] as const;
export type ExplainMode = (typeof EXPLAIN_MODES)[number];

export function isExplainMode(value: string): value is ExplainMode {
  return (EXPLAIN_MODES as readonly string[]).includes(value);
}

/** A policy or query the explain evaluator cannot follow; the message names the construct. */
export class ExplainUnsupported extends Error {
  constructor(message: string, readonly location?: Location) {
    super(message);
    this.name = 'ExplainUnsupported';
  }
}
