// Deterministic random and mutated Rego for the parser's robustness tests: seeded, so failures reproduce.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';

export { prng } from '../../scripts/fuzz/prng.js';

const FRAGMENTS = [
  '{', '}', '[', ']', '(', ')', ',', ';', ':', ':=', '=', '==', '!=', '.', '|', '&', '+', '-', '*', '/', '%', '<', '>=',
  'if', 'else', 'not', 'some', 'some x in ', 'every', 'every k, v in ', 'in', 'with', 'as', 'contains', 'default',
  'package', 'import', 'import future.keywords', 'import rego.v1', 'true', 'null', '_', 'x', 'input.a', 'data.b[c]',
  '"str"', '"unterminated', '`raw', '$"t{', '$"t{1}"', '}"', '#', '# METADATA\n# title: t\n', '\n', ' ', '\t', '0',
  '01', '1.', '1e999999', '.5', '-1', 'set()', '{1: 2}', '[x | x := 1]', '{k: v | some k, v in o}', '\u00a0', '!', '$',
  'and', 'or', 'not {', 'f(x) := y if', 'p contains 1',
];

export function mutate(src: string, rand: () => number): string {
  let s = src;
  const edits = 1 + Math.floor(rand() * 3);
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(rand() * (s.length + 1));
    const kind = Math.floor(rand() * 4);
    if (kind === 0) s = s.slice(0, at) + FRAGMENTS[Math.floor(rand() * FRAGMENTS.length)] + s.slice(at);
    else if (kind === 1) s = s.slice(0, at) + s.slice(at + 1 + Math.floor(rand() * 8));
    else if (kind === 2) s = s.slice(0, at);
    else {
      const from = Math.floor(rand() * s.length);
      s = s.slice(0, at) + s.slice(from, from + Math.floor(rand() * 20)) + s.slice(at);
    }
  }
  return s;
}

export function randomRego(rand: () => number): string {
  const parts = ['package p\n'];
  const n = Math.floor(rand() * 40);
  for (let i = 0; i < n; i++) parts.push(FRAGMENTS[Math.floor(rand() * FRAGMENTS.length)], rand() < 0.5 ? ' ' : '');
  return parts.join('');
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) return yamlFiles(full);
    return name.endsWith('.yaml') ? [full] : [];
  });
}

/** Modules from OPA's v1 conformance cases (read in place), every `step`-th file, for seeds of mutations. */
export function seedModules(moduleDir: string, step: number): string[] {
  const files = yamlFiles(join(moduleDir, 'v1/test/cases/testdata/v1')).sort().filter((_, i) => i % step === 0);
  return files.flatMap((f) => {
    const doc = parseYaml(readFileSync(f, 'utf8')) as { cases?: { modules?: string[] }[] } | null;
    return (doc?.cases ?? []).flatMap((c) => (c.modules ?? []).filter((m) => typeof m === 'string').slice(0, 1)).slice(0, 1);
  });
}
