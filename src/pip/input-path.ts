// References into the decision input, written as in Rego: input.subject.id, input.headers["x-user"], input.roles[0].

import { PipConfigError } from './errors.js';
import { isJsonObject } from '../json/kinds.js';

export interface InputPath {
  readonly text: string;
  /** Segments after `input`. */
  readonly segments: readonly string[];
}

const SEGMENT = /^(?:\.([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\])/;

export function parseInputPath(text: string, where: string): InputPath {
  if (!text.startsWith('input')) throw new PipConfigError(`${where}: "${text}" must start with "input"`);
  const segments: string[] = [];
  let rest = text.slice('input'.length);
  while (rest.length > 0) {
    const m = SEGMENT.exec(rest);
    if (!m) throw new PipConfigError(`${where}: cannot read "${rest}" in input path "${text}"`);
    segments.push(m[1] ?? m[2] ?? (JSON.parse(`"${m[3]}"`) as string));
    rest = rest.slice(m[0].length);
  }
  if (segments.length === 0) throw new PipConfigError(`${where}: "${text}" names the whole input, name a value inside it`);
  return { text, segments };
}

/** The value at `path`, or undefined when any step is absent. Arrays take numeric segments. */
export function resolveInputPath(input: unknown, path: InputPath): unknown {
  let node = input;
  for (const seg of path.segments) {
    if (Array.isArray(node)) {
      if (!/^\d+$/.test(seg)) return undefined;
      node = node[Number(seg)];
    } else if (isJsonObject(node)) {
      node = Object.prototype.hasOwnProperty.call(node, seg) ? node[seg] : undefined;
    } else {
      return undefined;
    }
  }
  return node;
}
