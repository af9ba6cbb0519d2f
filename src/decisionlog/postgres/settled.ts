// Which seqs of the central store a reader may hand out without a cursor ever passing one that commits later.
// A row's seq is drawn when it is inserted and the row is seen when its batch commits; batches of several
// collectors (or connections) commit in any order, so seq 7 may appear after seq 9 has been read, and a walk
// `seq > 9` would never see it. Batches stay concurrent; instead each marks itself while it is in flight: before
// drawing any seq it takes a shared advisory lock whose key carries L, the highest seq committed at that moment
// (every seq it draws is above L), held until it commits or rolls back. A reader first reads, in one statement,
// the highest committed seq and the lowest L still marked: the lower of the two is settled. Every seq up to it was
// drawn by a batch that has ended (a batch still marked draws above its L; one that marks itself later draws above
// the committed seq read, which was drawn earlier), so a snapshot taken after that statement holds every one that
// committed. Pages then read below that bound, in a later snapshot.
//
// The key of L is -1 - L: negative, so it never meets the store's own positive keys (schema, retention) or a
// small key another application picked. pg_locks shows a bigint key as classid (its high 32 bits, unsigned) and
// objid (its low 32 bits), objsubid 1; for -1 - L, with L below 2^62, classid is at least 2^32 - 2^30.

/**
 * The writer's mark: one row once the lock is taken. The INSERT joins its rows with it, so no seq is drawn before
 * (a row reaches the INSERT's projection, where its seq is drawn, only once the join has the mark's row).
 */
export const markInFlightSql = `SELECT pg_advisory_xact_lock_shared(-1 - coalesce(max(seq), 0)) AS marked FROM verdict_decisions`;

/** The reader's bound: every row with seq <= settled is committed or never will be (0: none yet). */
export const settledSeqSql = `
SELECT least(
  (SELECT coalesce(max(seq), 0) FROM verdict_decisions),
  (SELECT min((4294967295 - classid::bigint) * 4294967296 + (4294967295 - objid::bigint))
     FROM pg_locks
    WHERE locktype = 'advisory' AND objsubid = 1 AND classid::bigint >= 3221225472
      AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))
) AS settled`;
