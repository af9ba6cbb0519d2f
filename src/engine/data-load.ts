// Loading the data document into wasm instances piece by piece. The store holds the document once, as JS
// values and packed JSON text (src/json/packed.ts); each instance needs its own parsed copy in its own linear
// memory. Serialising the whole document
// first cost a second copy of it as JSON text (100 MB for 100 MB of data) and one long synchronous stretch;
// here it is cut into pieces of a bounded number of values, each serialised once, parsed by every instance
// and placed at its path (opa_value_add_path), and activation yields to pending decisions between pieces.
import { isJsonObject } from '../json/kinds.js';
import { PIECE_VALUES, exceeds, packedText } from '../json/packed.js';
import { writeJson } from '../json/writer.js';

/** One piece of the document: the JSON text of the value at `path` (objects cut further are sent as {}). */
export interface DataPiece {
  path: string[];
  json: Uint8Array;
}

/** What loads data: a wasm instance (WasmPolicy) or anything shaped like one. */
export interface DataTarget {
  beginData(): void;
  addData(piece: DataPiece): void;
  endData(): void;
}

export { PIECE_VALUES };

const encoder = new TextEncoder();

/**
 * The document's pieces in document order: objects with more than `limit` values below them, or with packed
 * values below them, are sent as {} and cut further; a packed value goes as its text; anything else (arrays
 * included, which cannot be filled in place) goes whole.
 */
export function* dataPieces(root: Record<string, unknown>, limit = PIECE_VALUES): Generator<DataPiece> {
  const stack: { path: string[]; value: unknown }[] = [{ path: [], value: root }];
  for (let next = stack.pop(); next; next = stack.pop()) {
    const { path, value } = next;
    const packed = packedText(value);
    if (packed) {
      yield { path, json: packed };
    } else if (isJsonObject(value) && exceeds(value, limit)) {
      yield { path, json: encoder.encode('{}') };
      const keys = Object.keys(value);
      for (let i = keys.length - 1; i >= 0; i--) stack.push({ path: [...path, keys[i]!], value: value[keys[i]!] });
    } else {
      yield { path, json: encoder.encode(writeJson(value)) };
    }
  }
}

/** Loads `root` into every target at once, synchronously (after a Data API write, or on a rebuilt instance). */
export function loadDataNow(targets: DataTarget[], root: Record<string, unknown>): DataStats {
  for (const target of targets) target.beginData();
  const stats = { pieces: 0, jsonBytes: 0 };
  for (const piece of dataPieces(root)) place(targets, piece, stats);
  for (const target of targets) target.endData();
  return stats;
}

/**
 * Loads `root` into every target, yielding to the event loop between pieces so decisions on the active set
 * keep being answered while a large document loads into the next one.
 */
export async function loadDataYielding(targets: DataTarget[], root: Record<string, unknown>): Promise<DataStats> {
  for (const target of targets) target.beginData();
  const stats = { pieces: 0, jsonBytes: 0 };
  for (const piece of dataPieces(root)) {
    place(targets, piece, stats);
    await new Promise((resolve) => setImmediate(resolve));
  }
  for (const target of targets) target.endData();
  return stats;
}

export interface DataStats {
  /** Pieces the document was cut into. */
  pieces: number;
  /** Total JSON text of the pieces (each serialised once, however many instances load it). */
  jsonBytes: number;
}

function place(targets: DataTarget[], piece: DataPiece, stats: DataStats): void {
  for (const target of targets) target.addData(piece);
  stats.pieces++;
  stats.jsonBytes += piece.json.byteLength;
}
