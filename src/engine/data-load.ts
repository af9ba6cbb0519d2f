// Loading the data document into wasm instances piece by piece. The store holds the document once, as JS
// values and packed JSON text (src/json/packed.ts); each instance needs its own parsed copy in its own linear
// memory. Serialising the whole document
// first cost a second copy of it as JSON text (100 MB for 100 MB of data) and one long synchronous stretch;
// here it is cut into pieces of a bounded number of values, each serialised once, parsed by every instance
// and placed at its path (opa_value_add_path), and activation yields to pending decisions between pieces.
import { createHash } from 'node:crypto';
import { isJsonObject } from '../json/kinds.js';
import { PIECE_VALUES, exceeds, packedForm, packedText, type PackedForm } from '../json/packed.js';
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
  for (const { path, value, packed } of pieceValues(root, limit)) yield { path, json: packed ? packedText(value)! : encoder.encode(writeJson(value)) };
}

/** The values dataPieces serialises, in its order: a packed one as it is held, an object cut further as {}. */
function* pieceValues(root: Record<string, unknown>, limit: number): Generator<{ path: string[]; value: unknown; packed?: PackedForm }> {
  const stack: { path: string[]; value: unknown }[] = [{ path: [], value: root }];
  for (let next = stack.pop(); next; next = stack.pop()) {
    const { path, value } = next;
    const packed = packedForm(value);
    if (packed) {
      yield { path, value, packed };
    } else if (isJsonObject(value) && exceeds(value, limit)) {
      yield { path, value: {} };
      const keys = Object.keys(value);
      for (let i = keys.length - 1; i >= 0; i--) stack.push({ path: [...path, keys[i]!], value: value[keys[i]!] });
    } else {
      yield { path, value };
    }
  }
}

/** What identifies a document across threads (shared-data.ts): a digest in 8 words, and the JSON bytes it spans. */
export interface DataKey {
  key: Int32Array;
  jsonBytes: number;
}

/**
 * A digest of the document as it would be loaded (SHA-256): two threads holding equal documents (the same
 * changes applied, packed values received as the same bytes) get the same key, which is how one finds the
 * copy another loaded. Packed values are digested as they are held, deflated, without inflating them.
 */
export function dataKey(root: Record<string, unknown>, limit = PIECE_VALUES): DataKey {
  const digest = new DocumentDigest();
  for (const piece of pieceValues(root, limit)) digest.add(piece);
  return digest.result();
}

/** dataKey, yielding to the event loop now and then (a document of many unpacked pieces takes a while). */
export async function dataKeyYielding(root: Record<string, unknown>, limit = PIECE_VALUES): Promise<DataKey> {
  const digest = new DocumentDigest();
  let n = 0;
  for (const piece of pieceValues(root, limit)) {
    digest.add(piece);
    if (++n % 64 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  return digest.result();
}

class DocumentDigest {
  private readonly hash = createHash('sha256');
  private jsonBytes = 0;

  add({ path, value, packed }: { path: string[]; value: unknown; packed?: PackedForm }): void {
    this.hash.update(JSON.stringify(path));
    if (packed) {
      // The deflated text itself: a digest kept per packed value took a buffer of its own, about 200 bytes of
      // heap, for each of the ten thousand values of 100 MB of data, in every thread; digesting the text anew
      // takes a few tens of milliseconds for such a document, against the seconds its load takes.
      this.hash.update(`\0p${packed.length}${packed.array ? 'a' : 'o'}${packed.deflated.byteLength}\0`).update(packed.deflated);
      this.jsonBytes += packed.length;
    } else {
      const json = encoder.encode(writeJson(value));
      this.hash.update(`\0v${json.byteLength}\0`).update(json);
      this.jsonBytes += json.byteLength;
    }
  }

  result(): DataKey {
    return { key: new Int32Array(new Uint8Array(this.hash.digest()).buffer), jsonBytes: this.jsonBytes };
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
