// Differential test: `verdict eval -d` against the pinned opa where a data file holds a number a double cannot
// print back (12345678901234567890). The JSON reader keeps such a number as its text in an object; it is still a
// number, so a document that is one is refused, and it conflicts with an object another file puts at its place.
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeTree } from '../server/harness.js';

const opa = execFileSync('scripts/install-opa.sh', { encoding: 'utf8' }).trim();
const big = '12345678901234567890';

const cases: { name: string; files: Record<string, string>; args: string[] }[] = [
  { name: 'a document that is a big number', files: { 'top.json': big }, args: ['-d', 'top.json'] },
  { name: 'a big number, then an object at the same key', files: { 'a.json': `{"x": ${big}}`, 'b.json': '{"x": {"y": 1}}' }, args: ['-d', 'a.json', '-d', 'b.json'] },
  { name: 'an object, then a big number at the same key', files: { 'a.json': `{"x": ${big}}`, 'b.json': '{"x": {"y": 1}}' }, args: ['-d', 'b.json', '-d', 'a.json'] },
  { name: "a directory's document below a big number", files: { 'data.json': `{"x": ${big}}`, 'x/data.json': '{"y": 1}' }, args: ['-d', '.'] },
];

function run(command: string, args: string[], cwd?: string) {
  const out = spawnSync(command, args, { encoding: 'utf8', cwd });
  return { status: out.status, stdout: out.stdout, stderr: out.stderr };
}

const messages = (stdout: string) => (JSON.parse(stdout) as { errors?: { message: string }[] }).errors?.map((e) => e.message);

describe('verdict eval refuses data files whose big numbers stand where an object is needed, as opa does', () => {
  const main = `${process.cwd()}/dist/src/main.js`;
  for (const c of cases) {
    it(c.name, () => {
      const dir = writeTree(c.files);
      const args = ['eval', ...c.args, '-f', 'json', 'data'];
      const theirs = run(opa, args, dir);
      const ours = run(process.execPath, [main, ...args], dir);
      assert.equal(theirs.status, 2, theirs.stdout);
      assert.equal(ours.status, theirs.status, ours.stdout);
      const [want] = messages(theirs.stdout) ?? [];
      const [got] = messages(ours.stdout) ?? [];
      // Both name the file that could not be merged and say why; OPA's merge message also names the other file.
      assert.equal(got?.split(':')[0], want?.split(':')[0]);
      if (want?.includes('merge error')) assert.match(got ?? '', /: merge error/);
      else assert.equal(got, want);
    });
  }
});
