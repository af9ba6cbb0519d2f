// Runs `opa eval` and `verdict eval` side by side on YAML, for the differential tests of the YAML reader.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { referenceOpa } from '../engine/opa-fixture.js';

export function run(command: string, args: string[], cwd: string): { status: number | null; stdout: string; stderr: string } {
  const out = spawnSync(command, args, { cwd, encoding: 'utf8' });
  return { status: out.status, stdout: out.stdout, stderr: out.stderr };
}

export function both(args: string[], cwd: string): [ReturnType<typeof run>, ReturnType<typeof run>] {
  return [run(referenceOpa(), ['eval', '--format', 'json', ...args], cwd), run(process.execPath, [join(process.cwd(), 'dist/src/main.js'), 'eval', '--format', 'json', ...args], cwd)];
}

/** The value an `opa eval --format json` gave, or its first error's message. */
export function answer(r: ReturnType<typeof run>): { error: string } | { value: unknown } {
  const json = JSON.parse(r.stdout) as { result?: Array<{ expressions: Array<{ value: unknown }> }>; errors?: Array<{ message: string }> };
  return json.errors ? { error: json.errors[0]!.message } : { value: json.result?.[0]?.expressions[0]?.value };
}

export function withDir(body: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'verdict-yaml-opa-'));
  try {
    body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** yaml.unmarshal and yaml.is_valid answer `text` as opa eval does, and so does an input file holding it. */
export function assertReadAsOpa(text: string, dir: string): void {
  for (const query of [`yaml.unmarshal(${JSON.stringify(text)})`, `yaml.is_valid(${JSON.stringify(text)})`]) {
    const [opa, ours] = both(['--strict-builtin-errors', query], dir);
    assert.deepEqual(answer(ours), answer(opa), query);
  }
  writeFileSync(join(dir, 'input.yaml'), text);
  const [opaInput, ourInput] = both(['-i', 'input.yaml', 'input'], dir);
  assert.equal(ourInput.status, opaInput.status, `input ${JSON.stringify(text)}: ${ourInput.stdout}${ourInput.stderr}`);
  assert.equal(ourInput.stderr, opaInput.stderr, `input ${JSON.stringify(text)}`);
  assert.equal(ourInput.stdout, opaInput.stdout, `input ${JSON.stringify(text)}`);
}
