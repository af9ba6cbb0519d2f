// lower and upper against the reference OPA, which maps case per rune with Go's unicode.ToLower/ToUpper
// (simple case mapping, no special casing): through the wasm runtime (b_lower/b_upper) and through the host
// implementations the partial evaluator calls (`verdict eval -p` against `opa eval -p`).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { agreesWithOpa } from './differential.js';

const WORDS = [
  'plain ASCII Text 123',
  'ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÐÑÒÓÔÕÖØÙÚÛÜÝÞß àáâãäåæçèéêëìíîïðñòóôõöøùúûüýþÿ',
  'ĀāĂăĄąĆćĲĳŁłŒœŸŹźſ ƁƂƃƆƇƈǄǅǆǇǈǉǊǋǌǰǱǲǳ ȺȻȼȽȾȿɀɁɂ',
  'ΑΒΓΔ αβγδ ΟΔΥΣΣΕΥΣ ὈΔΥΣΣΕΎΣ σς ΐΰ ᾳᾼ ϐϑϕϖϰϱϵ',
  'ПРИВЕТ привет ЁёЂђ Ѡѡ Ҁҁ Ӏӏ',
  'ԱԲԳ աբգ և',
  'ႠႡႢ ⴀⴁⴂ აბგ ᲐᲑᲒ',
  '𐐀𐐁𐐂 𐐨𐐩𐐪 𞤀𞤢',
  'İ ı i I Iİıi',
  'ß ẞ ŉ ﬁ ﬀ',
  'ǅ ǈ ǋ ǲ',
  'K Å Ω ℡',
  'Ⓐⓐ Ａａ',
  'a\u0307 Σ',
  '',
];

/** Every code point of each block (surrogates excluded), one string per block. */
const SWEEPS: Array<[number, number]> = [
  [0x80, 0x2ff], // Latin-1 Supplement, Latin Extended-A and -B, IPA, modifier letters
  [0x370, 0x58f], // Greek and Coptic, Cyrillic and its supplement, Armenian
  [0x10a0, 0x10ff], // Georgian
  [0x13a0, 0x13ff], // Cherokee
  [0x1c80, 0x1cbf], // Cyrillic Extended-C, Georgian Extended
  [0x1e00, 0x1fff], // Latin Extended Additional, Greek Extended
  [0x2100, 0x218f], // Letterlike Symbols, Number Forms
  [0x24b0, 0x24ff], // enclosed letters
  [0x2c00, 0x2d2f], // Glagolitic, Latin Extended-C, Coptic, Georgian Supplement
  [0xa640, 0xa7ff], // Cyrillic Extended-B, Latin Extended-D
  [0xab70, 0xabbf], // Cherokee Supplement
  [0xff00, 0xff5f], // fullwidth forms
  [0x10400, 0x104ff], // Deseret, Osage
  [0x1e900, 0x1e95f], // Adlam
];

const sweep = ([lo, hi]: [number, number]): string => {
  let s = '';
  for (let c = lo; c <= hi; c++) s += String.fromCodePoint(c);
  return s;
};

/** Every code point JavaScript gives a case mapping (full or simple): the cased letters of every script. */
const casedByJs = (): string => {
  let s = '';
  for (let c = 0; c <= 0x10ffff; c++) {
    if (c >= 0xd800 && c <= 0xdfff) continue;
    const ch = String.fromCodePoint(c);
    if (ch.toLowerCase() !== ch || ch.toUpperCase() !== ch) s += ch;
  }
  return s;
};

const STRINGS = [...WORDS, ...SWEEPS.map(sweep), casedByJs()];
const CALLS = STRINGS.flatMap((s) => [
  { fn: 'lower', args: [s] },
  { fn: 'upper', args: [s] },
]);

agreesWithOpa('lower and upper in the wasm runtime', CALLS);

test('lower and upper in the partial evaluator agree with opa eval -p', () => {
  const opa = execFileSync('scripts/install-opa.sh', { encoding: 'utf8' }).trim();
  const dir = mkdtempSync(join(tmpdir(), 'verdict-casemap-'));
  try {
    const file = join(dir, 'casemap.rego');
    const calls = CALLS.map((c) => `${c.fn}(${JSON.stringify(c.args[0])})`);
    writeFileSync(file, `package casemap\n\nmapped := [\n  ${calls.join(',\n  ')},\n]\n`);
    const args = ['eval', '-p', '--format', 'json', '-d', file, 'data.casemap.mapped == input.x'];
    const partial = (out: string) => (JSON.parse(out) as { partial: unknown }).partial;
    const want = partial(execFileSync(opa, args, { encoding: 'utf8', maxBuffer: 64 << 20 }));
    const ours = spawnSync(process.execPath, ['dist/src/main.js', ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
    assert.equal(ours.status, 0, ours.stderr);
    assert.deepEqual(partial(ours.stdout), want);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the committed case tables are what scripts/casemap generates', () => {
  // Go builds the reference OPA (scripts/install-opa.sh), so it is on every machine these tests run on.
  const run = spawnSync('go', ['run', 'scripts/casemap/main.go', '-check'], { encoding: 'utf8' });
  assert.equal(run.status, 0, `${run.error?.message ?? ''}${run.stderr}`);
});
