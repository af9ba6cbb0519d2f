// How many frames a database's WAL holds, for a writer that checkpoints on its own schedule instead of SQLite's
// automatic checkpoint (which runs inside the COMMIT that crosses its threshold, so whoever waits for that commit
// waits for the checkpoint too). better-sqlite3 offers no WAL hook, so the count is read where SQLite keeps it:
// the WAL-index header at the start of the -shm file (https://www.sqlite.org/walformat.html, "The WAL-Index
// Header"), which every connection to the file maps and updates at each commit.
import { closeSync, openSync, readSync } from 'node:fs';
import { endianness } from 'node:os';

/** The header's version field for the WAL-index format SQLite has written since 3.7.0. */
const walIndexVersion = 3_007_000;
/** Two copies of the 48-byte header: SQLite writes the second, then the first, and readers compare them. */
const headerBytes = 96;
const mxFrameOffset = 16;
const pageSizeOffset = 14;

/** The WAL frames (pages) that hold `bytes`: a checkpoint threshold counted in bytes, whatever the page size. */
export function framesFor(bytes: number, pageSize: number): number {
  return Math.ceil(bytes / pageSize);
}

export class WalFrames {
  private readonly header = Buffer.alloc(headerBytes);
  private readonly read32: (buffer: Buffer, at: number) => number;
  private readonly read16: (buffer: Buffer, at: number) => number;

  private constructor(private readonly fd: number) {
    // The header is in the machine's byte order.
    const little = endianness() === 'LE';
    this.read32 = little ? (b, at) => b.readUInt32LE(at) : (b, at) => b.readUInt32BE(at);
    this.read16 = little ? (b, at) => b.readUInt16LE(at) : (b, at) => b.readUInt16BE(at);
  }

  /**
   * A reader of the WAL of `file` (a database in WAL mode that `pageSize` describes, already opened by a
   * connection), or undefined when its -shm file is absent or not in the expected format: the caller then leaves
   * checkpoints to SQLite.
   */
  static open(file: string, pageSize: number): WalFrames | undefined {
    let fd: number;
    try {
      fd = openSync(`${file}-shm`, 'r');
    } catch {
      return undefined;
    }
    const frames = new WalFrames(fd);
    // The header stores 65,536-byte pages as 1 (the field has 16 bits).
    const stored = frames.readHeader() ? frames.read16(frames.header, pageSizeOffset) : undefined;
    if (frames.read32(frames.header, 0) !== walIndexVersion || (stored !== pageSize && !(stored === 1 && pageSize === 65_536))) {
      frames.close();
      return undefined;
    }
    return frames;
  }

  /**
   * The frames in the WAL since it was last started over, as SQLite's automatic checkpoint counts them; undefined
   * while the two copies of the header differ (another process is committing).
   */
  count(): number | undefined {
    if (!this.readHeader()) return undefined;
    const first = this.read32(this.header, mxFrameOffset);
    return first === this.read32(this.header, 48 + mxFrameOffset) ? first : undefined;
  }

  close(): void {
    closeSync(this.fd);
  }

  private readHeader(): boolean {
    return readSync(this.fd, this.header, 0, headerBytes, 0) === headerBytes;
  }
}
