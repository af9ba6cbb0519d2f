// `verdict test --coverage`: OPA's JSON coverage report. The spans that can be covered are the rule heads and the
// body expressions written in the modules as parsed (`some` declarations excepted, as OPA leaves them out); the spans
// covered are those the instrumented plan reported while the tests ran (src/compiler/planner/coverage.ts).
// A span not reached is listed as not covered unless its first line is covered by another span; line counts and
// percentages count distinct lines, as OPA's do.
import type { Location, Module, Rule } from '../compiler/ast.js';
import { headSpans } from '../compiler/planner/coverage.js';
import { forEachExprDeep } from '../compiler/walk.js';

interface Position { row: number; col: number }
interface Range { start: Position; end: Position }

interface FileReport {
  covered?: Range[];
  not_covered?: Range[];
  covered_lines?: number;
  not_covered_lines?: number;
  coverage?: number;
}

export interface CoverageReport {
  files: Record<string, FileReport>;
  covered_lines: number;
  not_covered_lines: number;
  coverage: number;
}

/** The spans of each module that a test can cover; call before the compile stages rewrite the modules. */
export function coverableSpans(modules: Module[]): Map<string, Location[]> {
  const byFile = new Map<string, Location[]>();
  for (const module of modules) {
    const spans: Location[] = [];
    for (const first of module.rules) {
      for (let r: Rule | undefined = first; r; r = r.else) {
        spans.push(...headSpans(r, r !== first));
        forEachExprDeep(r.body, (e) => {
          const kind = !Array.isArray(e.terms) && 'type' in e.terms ? e.terms.type : undefined;
          if (kind !== 'some' && !e.generated) spans.push(e.loc);
        });
      }
    }
    byFile.set(module.file, [...(byFile.get(module.file) ?? []), ...spans]);
  }
  return byFile;
}

export function coverageReport(sources: ReadonlyMap<string, string>, coverable: Map<string, Location[]>, covered: Location[]): CoverageReport {
  const files: Record<string, FileReport> = {};
  let coveredLines = 0;
  let notCoveredLines = 0;
  const hitsByFile = groupByFile(covered);
  for (const file of new Set([...coverable.keys(), ...hitsByFile.keys()])) {
    const toRange = rangeIn(sources.get(file) ?? '');
    const hits = unique((hitsByFile.get(file) ?? []).map(toRange));
    const hitRows = rowsOf(hits);
    const missed = unique((coverable.get(file) ?? []).map(toRange)).filter((r) => !hitRows.has(r.start.row) && !hits.some((h) => sameRange(h, r)));
    const missedRows = rowsOf(missed);
    const report: FileReport = {};
    if (hits.length > 0) report.covered = hits;
    if (missed.length > 0) report.not_covered = missed;
    if (hitRows.size > 0) report.covered_lines = hitRows.size;
    if (missedRows.size > 0) report.not_covered_lines = missedRows.size;
    const percent = percentage(hitRows.size, missedRows.size);
    if (percent !== 0) report.coverage = percent;
    files[file] = report;
    coveredLines += hitRows.size;
    notCoveredLines += missedRows.size;
  }
  return { files, covered_lines: coveredLines, not_covered_lines: notCoveredLines, coverage: percentage(coveredLines, notCoveredLines) };
}

function percentage(covered: number, notCovered: number): number {
  return covered + notCovered === 0 ? 0 : (100 * covered) / (covered + notCovered);
}

function groupByFile(spans: Location[]): Map<string, Location[]> {
  const out = new Map<string, Location[]>();
  for (const s of spans) out.set(s.file, [...(out.get(s.file) ?? []), s]);
  return out;
}

/** A span as OPA reports it: start row and column, and the row and column just past its last character. */
function rangeIn(source: string): (loc: Location) => Range {
  const lineStarts = [0];
  for (let i = 0; i < source.length; i++) if (source[i] === '\n') lineStarts.push(i + 1);
  const position = (offset: number): Position => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { row: lo + 1, col: Buffer.byteLength(source.slice(lineStarts[lo], offset)) + 1 };
  };
  return (loc) => ({ start: position(loc.offset), end: position(loc.end) });
}

const sameRange = (a: Range, b: Range) => a.start.row === b.start.row && a.start.col === b.start.col && a.end.row === b.end.row && a.end.col === b.end.col;

/** Sorted by start, then end; duplicates dropped. */
function unique(ranges: Range[]): Range[] {
  const key = (r: Range) => [r.start.row, r.start.col, r.end.row, r.end.col];
  const sorted = ranges.sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    for (let i = 0; i < 4; i++) if (ka[i] !== kb[i]) return ka[i]! - kb[i]!;
    return 0;
  });
  return sorted.filter((r, i) => i === 0 || !sameRange(r, sorted[i - 1]!));
}

function rowsOf(ranges: Range[]): Set<number> {
  const rows = new Set<number>();
  for (const r of ranges) for (let row = r.start.row; row <= r.end.row; row++) rows.add(row);
  return rows;
}
