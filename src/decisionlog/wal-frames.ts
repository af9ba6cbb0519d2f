// How many frames a database's WAL holds, for a writer that checkpoints on its own schedule instead of SQLite's
// automatic checkpoint (which runs inside the COMMIT that crosses its threshold, so whoever waits for that commit
// waits for the checkpoint too). better-sqlite3 offers no WAL hook; SQLite 3.51.0 and later answer
// `PRAGMA wal_checkpoint(NOOP)`, a checkpoint that copies nothing (nor takes the checkpoint lock) but reports the
// WAL's frames, read from the WAL-index header through the connection's own mapping of the -shm file.
//
// Not by reading the -shm file through a descriptor of Verdict's own: on POSIX, closing any descriptor of a file
// drops every lock the process holds on it (https://www.sqlite.org/howtocorrupt.html, section 2.2), SQLite's locks
// on the WAL-index included, those of the process's other connections (the server threads' readers) as well.
// Another process opening the log (`verdict decisions` while the server runs) could then take the WAL-index for
// abandoned and rebuild it, or a checkpoint there start the WAL over under this process's readers.
import type Database from 'better-sqlite3';

/** The first SQLite release that knows the NOOP checkpoint; an older one would run its unknown mode as PASSIVE. */
const noopCheckpointSince = [3, 51, 0];

/** The WAL frames (pages) that hold `bytes`: a checkpoint threshold counted in bytes, whatever the page size. */
export function framesFor(bytes: number, pageSize: number): number {
  return Math.ceil(bytes / pageSize);
}

/**
 * More frames than a commit appending `rows` rows of `bytes` (their columns' text) to the end of a table can write:
 * the leaf pages those bytes fill, counted twice as a row never spans two leaves (a page may be left half empty),
 * and pages for the rows' headers, the last leaf and the interior pages along the table's right edge and their
 * splits, the database header, the free list and pointer maps, and a revision's row in its own table.
 */
export function appendFramesAtMost(bytes: number, rows: number, pageSize: number): number {
  return 2 * Math.ceil((bytes + 64 * rows) / pageSize) + 16;
}

/** Whether SQLite `version` (as sqlite_version() gives it) has the NOOP checkpoint. */
export function hasNoopCheckpoint(version: string): boolean {
  const parts = version.split('.').map(Number);
  for (let i = 0; i < noopCheckpointSince.length; i++) {
    const part = parts[i] ?? 0;
    if (part !== noopCheckpointSince[i]) return part > noopCheckpointSince[i];
  }
  return true;
}

interface CheckpointRow {
  busy: number;
  log: number;
  checkpointed: number;
}

export class WalFrames {
  private constructor(private readonly noop: Database.Statement) {}

  /**
   * A reader of the WAL of `db`'s main database, or undefined when its SQLite lacks the NOOP checkpoint or the
   * database is not in WAL mode: the caller then leaves checkpoints to SQLite.
   */
  static open(db: Database.Database): WalFrames | undefined {
    const version = db.prepare('SELECT sqlite_version()').pluck().get() as string;
    if (!hasNoopCheckpoint(version)) return undefined;
    const frames = new WalFrames(db.prepare('PRAGMA main.wal_checkpoint(NOOP)'));
    // No count at the start: not in WAL mode (SQLite answers -1), or the WAL-index could not be read.
    return frames.count() === undefined ? undefined : frames;
  }

  /**
   * The frames in the WAL since it was last started over, as SQLite's automatic checkpoint counts them; undefined
   * when SQLite could not read the WAL-index header (busy: another connection is rebuilding it) or failed to. Call
   * it outside any transaction.
   */
  count(): number | undefined {
    try {
      const { busy, log } = this.noop.get() as CheckpointRow;
      return busy === 0 && log >= 0 ? log : undefined;
    } catch {
      // As with a failed checkpoint, the WAL stays as it is, and the next commit counts again.
      return undefined;
    }
  }
}
