/**
 * Point-in-time restore: rebuild a log directory from an archive, whole or up to an LSN, optionally starting at a
 * snapshot's fence. Every byte is checked against its key before it is written, and a restore that cannot give the
 * log it was asked for fails instead of producing a shorter one.
 */

import { basename, join } from "node:path";
import {
  checkOptionNames,
  firstNames,
  isWalError,
  optionNames,
  shownError,
  shownValue,
  WalError,
  withAdvice,
} from "@lora/wal-codec";
import { type HeldLock, lockDirectory, lockTargetOf, releaseOutcome } from "@lora/wal-lock";
import {
  decodeSegmentHeader,
  fileSystemOption,
  LOCK_FILE_NAME,
  mkdirDurably,
  parseRestoringSegmentId,
  RESTORING_SUFFIX,
  removeEmptyDirDurably,
  SEGMENT_HEADER_BYTES,
  SegmentWriter,
  segmentPath,
  type WalFileSystem,
  withSealedFlag,
} from "@lora/wal-segment";
import { type ArchiveStore, assertSignalOption, checkArchiveStore, READ_CALLS } from "./archive-store.js";
import { emptyArchiveError } from "./empty-archive.js";
import { type RestoreProgress, restoreProgressCounter } from "./restore-progress.js";
import {
  type ArchivedSegment,
  type CheckedSegment,
  checkFollows,
  fetchSegment,
  isGoneAfterListing,
  listArchive,
  missingSegmentKey,
  planSegments,
  type SegmentPart,
  type SegmentScan,
  type SegmentSource,
  scanSegment,
} from "./verify-archive.js";

export type { RestoreProgress } from "./restore-progress.js";

/** Options of {@link restore}. */
export interface RestoreOptions {
  /** Where the archive is. */
  readonly store: ArchiveStore;
  /**
   * The log directory to create. It must not exist, be empty, or hold only the `*.restoring` segment files of a
   * restore that did not finish (see {@link restore}); the directory lock's file (`.lora-wal.lock`) may be there too.
   */
  readonly dir: string;
  /**
   * Restore exactly the records at or below this LSN: the segments whose base LSN is at or below it, the last one
   * cut right after its last record at or below it and left unsealed (ready for appends). A transaction that
   * commits above it is left incomplete at the end, and replay leaves it out. @default everything archived
   */
  readonly toLsn?: number;
  /**
   * A snapshot's fence: start at the segment holding `fromLsn + 1`; older segments are not fetched. Open the
   * restored log with `checkpointLsn: fromLsn` (see {@link restore}). @default 0 (from the oldest segment)
   */
  readonly fromLsn?: number;
  /** The file-system seam for the target directory. @default the Node file system */
  readonly fs?: WalFileSystem;
  /**
   * Called with the restore's progress (the convention of `@lora/wal-replay`'s `onProgress`): after each further
   * MiB fetched from the store and checked (the calls are bounded by the bytes of the archive's listing, not by
   * time or by the number of objects: at most one per MiB) and once more when the restored log is in place
   * (`done: true`, the counts then equal the totals); not when the restore fails or is aborted. The totals are known
   * from the listing before the first object is fetched. Called synchronously: keep it short. A callback that
   * throws fails the restore (which then removes what it wrote).
   */
  readonly onProgress?: (progress: RestoreProgress) => void;
  /**
   * Abandon the restore (it then removes what it wrote and rejects with the signal's reason). An `AbortSignal` when
   * given.
   */
  readonly signal?: AbortSignal;
}

/** Every option `restore` reads; any other name is refused (`WAL_INVALID_OPTION`). */
const RESTORE_OPTION_NAMES = optionNames<RestoreOptions>()(
  "store",
  "dir",
  "toLsn",
  "fromLsn",
  "fs",
  "onProgress",
  "signal",
);

/** What {@link restore} did. */
export interface RestoreResult {
  /** Segment files restored from the archive (the created successor not counted). */
  readonly segments: number;
  /** Bytes of those segment files, as written (after a `toLsn` cut). */
  readonly bytes: number;
  /** The first and last record LSN in the restored segments; `null` when they hold no record. */
  readonly firstLsn: number | null;
  readonly lastLsn: number | null;
  /**
   * Objects fetched from the store and checked: those of the restored segments (pieces left beside a segment's
   * sealed object or off its chain included: each is compared with the segment's bytes), and, when `toLsn` lies past the
   * last restored segment's records, the next segment's first object (fetched whole for the header that says no
   * record up to `toLsn` is missing). Progress counts only the former (its totals come from the listing).
   */
  readonly objects: number;
  /** The empty successor created after a sealed newest segment, or `null`. */
  readonly successor: string | null;
  /**
   * Present only when releasing the directory lock failed once the restored log was in place (durable and complete):
   * the restore did not fail for it (see {@link restore}). A `WAL_IO` whose message says the log is restored and
   * that this process may still hold the lock; `cause` is what the release threw. Also emitted as a process warning.
   */
  readonly lockReleaseFailure?: WalError;
}

/**
 * Rebuild the log directory `dir` from the archive in `store`.
 *
 * What it restores: from the archive's keys, the segments from the oldest (or the one holding `fromLsn + 1`) to
 * the newest (or the last whose base LSN is at or below `toLsn`). Each is taken from its sealed object when there
 * is one, else (the newest only) from the chain of pieces of its durable prefix starting at offset 0. Keys that
 * are not archive keys are ignored.
 *
 * What it checks before anything becomes visible in `dir`, failing instead of restoring a shorter or damaged log:
 * - the archive lists a segment at all (`WAL_ARCHIVE_MISSING`, "holds no log segments"; for an `fsArchive` whose
 *   directory does not exist, which lists as empty, the message says so and `details.path` names the directory);
 * - every segment id in the range is present, every one but the archive's newest has a sealed object, and the
 *   newest's piece chain has no gap (`WAL_ARCHIVE_MISSING`, `details.object` naming the missing key pattern);
 * - every object has the size and CRC-32 its key names, its segment's header names the key's base LSN (and is
 *   sealed for a sealed object), each piece left beside a segment's sealed object or off its chain holds the
 *   segment's bytes (fetched and compared byte for byte: a piece of another history of the segment is refused, not
 *   restored or stitched in), and each segment reads as whole, valid records to the end with rising LSNs
 *   (`WAL_ARCHIVE_CORRUPT`, `details.object` naming the object);
 * - `toLsn` is not above the newest archived record (`WAL_ARCHIVE_MISSING`, saying what the archive holds), nor
 *   below the oldest segment; `fromLsn` is not below what the oldest segment can supply.
 *
 * How it writes: each segment goes to `<dir>/<segment name>.restoring` and is fsynced; once all are written and
 * checked they are renamed into place newest first, the directory fsynced after each rename, so a crash part-way
 * leaves the newest segments without the oldest: opening that fails with `WAL_FENCE_TOO_LOW` instead of reading
 * as a shorter log (unless it is opened with `allowTruncatedHistory`, which accepts a log that starts late). If
 * the newest restored segment is sealed, its empty successor is created (header only, unsealed, base LSN its last
 * record's + 1), exactly as `Wal.open` heals a crash between seal and rotation, so LoraDB opens the directory too. A
 * missing `dir` is created (its parent fsynced) once the archive's keys show the restore is possible; an existing
 * empty `dir` has its parent fsynced too (a killed restore, or a `mkdir` by hand, may have left its entry off the
 * disk), so a restore that resolved is not lost with its directory at a power loss.
 *
 * Who owns `dir` meanwhile: restore takes the directory lock `Wal.open` takes (`@lora/wal-lock`: on Node's file
 * system the kernel lock on `dir` and on `<dir>/.lora-wal.lock`, shared with other processes and LoraDB; a file
 * system's own lock, or this process's, otherwise; a view naming a `lockBase` locks as that one does). It is taken
 * once the archive's keys show the restore is possible and `dir` exists (created then when missing), `dir` is looked
 * at again under it (the look that counts), and it is held until the restored log is in place or what was written is
 * undone; it is released on every path, success or failure. A release that fails does not change the outcome: after
 * a failed restore the restore's own error is thrown; once the restored log is in place (durable and complete) the
 * restore resolves, with the release's failure as `lockReleaseFailure` on the result (a `WAL_IO` saying the log is
 * restored and this process may still hold the lock), also emitted as a process warning (`process.emitWarning`), so
 * that it cannot pass unseen and a caller does not restore again a log that needs nothing more (which is refused as
 * not empty). So a restore and a `Wal` (or a second restore) never both
 * own `dir`: whichever comes second is refused and changes nothing. A `Wal.open` while a restore runs gets
 * `WAL_LOCKED`, even when it finds the `.restoring` files. A restore into a `dir` a `Wal`, LoraDB or another restore
 * holds gets `WAL_LOCKED` while `dir` holds nothing but the lock file and a restore's `.restoring` files (a restore
 * writing them, a `Wal.open` under way), and is refused as not empty (`WAL_INVALID_OPTION`, before the store is
 * called) once the holder's own files are there.
 * The lock file stays in `dir` after a restore, as after `Wal.open`; it is not an entry that makes `dir` "not empty",
 * and a restore killed while holding the lock leaves it beside its `.restoring` files (the kernel lock itself dies
 * with the process). A restore that fails, or is refused by the look under the lock, removes the lock file its own
 * lock created (as the acquisition itself reports it, `HeldLock.createdFile`: a lock file another holder made and let go
 * of just before this restore's lock is not one it created), whatever else `dir` then holds, so `dir` is left as found;
 * a lock file it found there stays.
 *
 * Finishing a restore that did not: a crash before its first rename leaves only `*.restoring` segment files, which
 * `Wal.open` and the readers refuse (`WAL_MALFORMED`). A restore into a `dir` that holds only such files (exactly the
 * names a restore writes, `0000000001.wal.restoring` and on) keeps `dir` refused until its own log is in place: it
 * writes each segment over the leftover of the same name (in place, the name never leaving `dir`), and removes the
 * leftovers it does not replace only once all its own files are written and fsynced (`dir` fsynced), before its
 * first rename; a crash at any point leaves `.restoring` files above every segment in place, which opening refuses.
 * If it fails, it leaves `dir` a restore that did not finish again, never an empty one: its renames are undone by
 * renaming the segments back to their `.restoring` names (oldest first, `dir` fsynced after each; the empty successor
 * removed first), and its `.restoring` files stay; run it again to finish. That undo is best effort: a rename or fsync
 * that fails stops it, the newest segments left in place above the `.restoring` files (opening refuses that too:
 * the log starts late), and the failure's message then names them and says to empty `dir` first (a failure that is not a `WalError` is thrown as `WAL_IO` with it as the cause, to carry that message). A `dir` holding anything else beside them
 * (segments already renamed into place by a crash part-way through the renames, or a file no restore writes) is
 * refused as not empty, nothing changed: empty it and restore again.
 *
 * On failure (into a `dir` that did not hold such leftovers) it removes what it wrote and rethrows (an abort with the
 * signal's reason), leaving `dir` as it found it: empty (a lock file it found there stays), or, when this call created it (and any missing parents), removed again, the removal fsynced (a seam without
 * `rmdir` leaves it empty). The removal is best effort: segments already renamed go oldest first, the directory
 * fsynced after each, so a crash meanwhile again leaves the newest without the oldest; a removal or fsync that fails
 * stops it there and leaves `dir` not empty, which a later restore refuses until it is emptied. A segment whose
 * removal (or, on the undo over leftovers, the successor whose removal) failed and whose presence a failing `stat`
 * cannot tell counts as still there, so the undo stops there too: never the oldest segments without the newest. A
 * `WalError` failure of the restore's own then keeps its code, details and cause, and its message names the files
 * left, and apart from them those whose presence could not be read, as ones that may be left (any other failure of
 * its own, such as a file-system seam's plain `Error`, is thrown as `WAL_IO` with it as the cause, to carry that
 * message); the signal's reason and what `onProgress` threw are rethrown as they are, even when they are `WalError`s.
 *
 * Beside a live archiver: an object the listing named may be gone when it is fetched (the pieces of a segment the
 * archiver has just sealed and replaced by its sealed object). The restore then removes what it wrote and starts
 * again from a new listing, at most 3 listings in all (`onProgress` then counts from the start again); the third
 * time it fails with that `WAL_ARCHIVE_MISSING`.
 *
 * Restoring from a snapshot: a snapshot taken at fence `F` (every transaction committed at or below `F` is in it,
 * and `F` is a transaction boundary) needs only the records above `F`. Restore with `fromLsn: F`, load the
 * snapshot, then open the log with `Wal.open(dir, { checkpointLsn: F })`: replay starts after `F` and checks that
 * the restored log reaches back to it (a missing first segment fails with `WAL_FENCE_TOO_LOW`, never silently).
 * Combined with `toLsn`, this gives the state at `toLsn` from a snapshot taken at or before it.
 *
 * @throws {@link WalError} `WAL_INVALID_OPTION` before anything is read or written for bad options (`store` not an
 *   {@link ArchiveStore}, `dir` not a non-empty string, `toLsn` or `fromLsn` not a non-negative safe integer or
 *   `toLsn` below `fromLsn`, `onProgress` not a function, `signal` not an `AbortSignal`), and before the store is
 *   called for `dir` not empty (beyond a previous restore's `*.restoring` files and the lock file) or not a
 *   directory (and again, nothing changed, when that is so once the lock is held); `WAL_LOCKED` when another holder
 *   (a `Wal`, LoraDB, another restore) has the directory lock (nothing in `dir` changed; a `dir` this call created
 *   stays, the holder's now); `WAL_LOCK_LOST` when the lock file was taken by another process while this
 *   restore held it (found before the first rename; what was written is undone); `WAL_ARCHIVE_MISSING`,
 *   `WAL_ARCHIVE_CORRUPT`, `WAL_IO` (the store or the file system; `cause` is the error), or the signal's reason.
 */
export async function restore(options: RestoreOptions): Promise<RestoreResult> {
  const checked = checkOptions(options);
  const { store, dir, toLsn, fromLsn, signal, onProgress } = checked;
  const fs = fileSystemOption(checked.fs, "restore");
  // Which lock `fs` takes, looked at once: a seam property that throws is refused before anything is created.
  const lockTarget = lockTargetOf(fs);
  // Refused before the store is called; looked at again under the lock, which is the look that counts.
  await checkTarget(fs, dir);

  // The directories this call creates (`dir` and missing parents): a failed restore removes them again.
  const created: string[] = [];
  let lock: HeldLock | undefined;
  let result: RestoreResult;
  try {
    let leftovers: Set<string> | null = null;
    // A live archiver seals the newest segment and deletes its pieces: when that lands between the listing and the
    // fetch of those pieces, a new listing holds the sealed object. A bounded number of times, never a loop.
    for (let attempt = 1; ; attempt++) {
      const listing = await listArchive(store, signal === undefined ? {} : { signal });
      if (listing.length === 0) throw await emptyArchiveError(store, missingSegmentKey(1));
      const plan = planRestore(store, listing, fromLsn, toLsn);
      created.push(...(await mkdirDurably(fs, dir)));
      if (lock === undefined) {
        // The lock `Wal.open` takes, held until the log is in place or what was written is undone: a Wal (or another
        // restore) that opened `dir` since the look above is refused here, and none opens it while this one writes.
        // No background check: `check()` runs before the first file is removed or renamed.
        try {
          lock = await lockDirectory(lockTarget, dir, undefined, { checkIntervalMs: 0 });
        } catch (error) {
          // Another holder locked `dir` since this call created it: it is the holder's now (empty until the holder
          // writes, with a lock that makes no file), so it stays, and so do its parents.
          if (isWalError(error, "WAL_LOCKED")) created.length = 0;
          throw error;
        }
        const found = await checkTarget(fs, dir);
        leftovers = found.length === 0 ? null : new Set(found);
      }
      try {
        result = await restoreFrom({ store, dir, toLsn, signal, onProgress, fs, leftovers, lock }, listing, plan);
        break;
      } catch (error) {
        if (attempt < RESTORE_ATTEMPTS && isGoneAfterListing(error)) continue;
        throw error;
      }
    }
  } catch (error) {
    // Under the lock still: a lock file this call's lock created goes, so `dir` is left as found (or removed), also
    // when the look under the lock refused it (something appeared in `dir` meanwhile). Whether it created the file is
    // what the acquisition itself says, not a look before it: a holder may have made the file and let go in between.
    if (lock?.createdFile === true) await fs.unlink(join(dir, LOCK_FILE_NAME)).catch(() => undefined);
    await removeCreatedDirs(fs, created);
    if (lock !== undefined) await releaseOutcome(lock);
    throw error;
  }
  // The log is in place, durable and complete: a failed release does not make the restore a failure (a caller that
  // retried would be refused as not empty, over a log that needs nothing more). It is reported on the result and as
  // a process warning, so that it cannot pass unseen.
  const released = await releaseOutcome(lock);
  if (released === undefined) return result;
  const lockReleaseFailure = new WalError(
    "WAL_IO",
    `restore: the log in ${dir} is restored (durable and complete: open it, do not restore again), but releasing its directory lock failed: ${shownError(released.error)}; this process may still hold the lock, and a Wal.open of ${dir} in it may be refused with WAL_LOCKED until it exits`,
    { cause: released.error, details: { path: dir } },
  );
  process.emitWarning(lockReleaseFailure);
  return { ...result, lockReleaseFailure };
}

/**
 * Undo {@link mkdirDurably} after a failed restore, innermost first, each removal durable (best effort, as the
 * removal of the files is): a refused restore leaves the file system as it found it. Only a directory that is still
 * empty goes, so one something else wrote into meanwhile stays, and so do those above it.
 */
async function removeCreatedDirs(fs: WalFileSystem, created: readonly string[]): Promise<void> {
  for (const path of [...created].reverse()) if (!(await removeEmptyDirDurably(fs, path))) return;
}

/** Listings a restore makes at most when objects it listed are gone by the time it fetches them. */
const RESTORE_ATTEMPTS = 3;

/** What {@link restoreFrom} needs of the restore's checked options. */
interface RestoreRun {
  readonly store: ArchiveStore;
  readonly dir: string;
  readonly toLsn: number | undefined;
  readonly signal: AbortSignal | undefined;
  readonly onProgress: RestoreOptions["onProgress"];
  readonly fs: WalFileSystem;
  /** The directory lock, held for the whole restore: checked once more before anything is removed or renamed. */
  readonly lock: HeldLock;
  /**
   * Non-null when `dir` held the `*.restoring` files of a restore that did not finish: the names of those in `dir`
   * now, kept up to date as this restore writes, removes and renames them (an attempt that starts again from a new
   * listing finds them here). Such a directory is refused by every reader; it must stay refused until this
   * restore's log is in place, whatever fails, so nothing of the kind is removed before it is replaced.
   */
  readonly leftovers: Set<string> | null;
}

/**
 * One attempt of {@link restore} from one listing and its plan: fetch, check and write every segment, then make
 * them visible; on failure, remove what it wrote.
 */
async function restoreFrom(
  run: RestoreRun,
  listing: readonly ArchivedSegment[],
  plan: ReturnType<typeof planRestore>,
): Promise<RestoreResult> {
  const { store, dir, toLsn, signal, onProgress, fs, leftovers, lock } = run;
  const { sources, gapAfter, next } = plan;
  const archiveNewest = listing.at(-1) as ArchivedSegment;
  const written: { source: SegmentSource; scan: SegmentScan; temp: string; path: string; bytes: number }[] = [];
  const visible: string[] = [];
  let objects = 0;
  // What the caller's callback threw, to be rethrown as it is (as the signal's reason is) even when it is a WalError.
  let thrownByCallback: { error: unknown } | undefined;
  const reporting =
    onProgress === undefined
      ? undefined
      : (p: RestoreProgress) => {
          try {
            onProgress(p);
          } catch (error) {
            thrownByCallback = { error };
            throw error;
          }
        };
  const progress = restoreProgressCounter(reporting, {
    totalBytes: sources.reduce((sum, s) => sum + s.size, 0),
    totalObjects: sources.reduce((sum, s) => sum + s.parts.length, 0),
    totalSegments: sources.length,
  });

  try {
    // The leftovers as found made durable (a failed run may have left their entries unsynced), so that a crash
    // meanwhile finds the directory refused at least as it was found.
    if (leftovers !== null) await fs.syncDir(dir);
    // Newest first: a toLsn beyond the archive is found before the older segments are fetched.
    for (let i = sources.length - 1; i >= 0; i--) {
      signal?.throwIfAborted();
      const source = sources[i] as SegmentSource;
      const isLast = i === sources.length - 1;
      let bytes = await fetchSegment(store, source, {
        signal,
        onPart: (part) => {
          objects++;
          progress.fetched(part.to - part.from);
        },
        // A piece left beside the segment's object, fetched to be compared with it: not one progress counts.
        onOther: () => objects++,
      });
      const scan = await scanSegment(bytes, source, isLast ? toLsn : undefined);
      if (isLast && toLsn !== undefined) {
        const beyond = toLsn > (scan.lastLsn ?? source.baseLsn - 1);
        // A segment missing right after this one starts above its last record: it matters only when toLsn does too.
        if (beyond && gapAfter !== undefined) throw gapAfter;
        if (beyond && source.id === archiveNewest.id) {
          const holds =
            scan.lastLsn === undefined
              ? `its newest segment ${source.id} (base lsn ${source.baseLsn}) holds no record yet`
              : `its newest record is lsn ${scan.lastLsn}, in segment ${source.id}`;
          throw new WalError(
            "WAL_ARCHIVE_MISSING",
            `cannot restore to lsn ${toLsn}: ${store.name} does not reach it (${holds}, ${source.sealed ? "sealed" : `a durable prefix of ${source.size} bytes in ${source.parts.length} piece(s)`})`,
            { details: { object: (source.parts.at(-1) as { key: string }).key, lsn: toLsn } },
          );
        }
        if (beyond && next !== undefined) {
          // A fetched object like the others (counted in the result), though not one of the range progress counts.
          await checkNextBase(store, listing, next, toLsn, signal, () => objects++);
        }
        bytes = cutUnsealed(bytes, scan);
      }
      const path = segmentPath(dir, source.id);
      const temp = `${path}${RESTORING_SUFFIX}`;
      written.push({ source, scan, temp, path, bytes: bytes.byteLength });
      const name = basename(temp);
      // A leftover of the same name is overwritten in place, never removed first: its name stays in `dir`. Counted
      // as there from the open on (a write that fails leaves the file).
      const overwrite = leftovers?.has(name) === true;
      leftovers?.add(name);
      await writeDurably(fs, temp, bytes, overwrite);
      progress.written();
    }
    written.reverse();
    for (let i = 1; i < written.length; i++)
      checkFollows(written[i - 1] as CheckedSegment, written[i] as CheckedSegment);
    // The lock file removed and taken by another process meanwhile (see @lora/wal-lock): nothing made visible then.
    const lost = lock.check();
    if (lost !== null) throw lost;
    if (leftovers !== null)
      await removeStaleLeftovers(fs, dir, leftovers, new Set(written.map((w) => basename(w.temp))));

    for (let i = written.length - 1; i >= 0; i--) {
      signal?.throwIfAborted();
      const w = written[i] as (typeof written)[number];
      await fs.rename(w.temp, w.path);
      visible.push(w.path);
      leftovers?.delete(basename(w.temp));
      await fs.syncDir(dir);
    }

    const newest = written.at(-1) as (typeof written)[number];
    let successor: string | null = null;
    if (toLsn === undefined && newest.scan.header.sealed) {
      const base = Math.max((newest.scan.lastLsn ?? 0) + 1, newest.source.baseLsn + 1);
      successor = segmentPath(dir, newest.source.id + 1);
      visible.push(successor);
      const writer = await SegmentWriter.create(fs, successor, base);
      await writer.close();
    }

    let firstLsn: number | null = null;
    let lastLsn: number | null = null;
    for (const [i, w] of written.entries()) {
      const cut = i === written.length - 1 && toLsn !== undefined;
      firstLsn ??= (cut ? w.scan.cutFirstLsn : w.scan.firstLsn) ?? null;
      lastLsn = (cut ? w.scan.cutLastLsn : w.scan.lastLsn) ?? lastLsn;
    }
    progress.finish();
    return {
      segments: written.length,
      bytes: written.reduce((sum, w) => sum + w.bytes, 0),
      firstLsn,
      lastLsn,
      objects,
      successor,
    };
  } catch (error) {
    // Errors not ours pass through as they are, whatever they are (a caller may abort with a WalError of its own).
    const notOurs = (signal?.aborted === true && error === signal.reason) || error === thrownByCallback?.error;
    if (leftovers !== null) {
      const stuck = await renameBack(fs, dir, visible, written, leftovers);
      // Undone, `dir` is as refused as it was found: the failure as it is (an objects-gone failure must stay that very
      // error for the restore to list again).
      if (notOurs || stuck.length === 0) throw error;
      throw withUndoAdvice(
        error,
        dir,
        `restore could not undo its renames: ${stuck.length} segment(s) are left in place in ${dir} (${firstNames(stuck)}) beside ${RESTORING_SUFFIX} files, which opening refuses (the log starts late); empty ${dir} and restore into it again`,
      );
    }
    await removeVisible(fs, dir, visible);
    for (const path of written.map((w) => w.temp)) await fs.unlink(path).catch(() => undefined);
    await fs.syncDir(dir).catch(() => undefined);
    if (notOurs) throw error;
    throw await undoFailure(fs, dir, [...visible, ...written.map((w) => w.temp)], error);
  }
}

/**
 * What a failed restore throws once it has tried to remove what it wrote. When files are left in `dir` (a removal
 * failed), a `WalError` failure is thrown again with its code, details and cause, its message naming the files: a
 * later restore refuses a `dir` that is not empty, so the caller has to remove them first; any other failure is
 * thrown as `WAL_IO` with it as the cause and that message. A failure that left nothing is thrown as it is (and the
 * caller passes the signal's reason and what a callback threw, `WalError` or not, straight through). A file whose
 * presence cannot be read (its `stat` fails) is named apart, as one that may be left: the message never says a file
 * is there that may be gone, nor leaves out one that may be there.
 */
async function undoFailure(
  fs: WalFileSystem,
  dir: string,
  paths: readonly string[],
  failure: unknown,
): Promise<unknown> {
  const left: string[] = [];
  const unread: string[] = [];
  let statError: unknown;
  for (const path of paths) {
    try {
      if ((await fs.stat(path)) !== null) left.push(basename(path));
    } catch (error) {
      unread.push(basename(path));
      statError ??= error;
    }
  }
  if (left.length === 0 && unread.length === 0) return failure;
  const unreadNote = (more: string) =>
    `reading ${unread.length}${more} file(s) in ${dir} failed (${firstNames(unread)}): ${shownError(statError)}`;
  let advice: string;
  if (unread.length === 0) {
    advice = `restore could not remove what it wrote: ${left.length} file(s) are left in ${dir} (${firstNames(left)}), remove them before restoring into it again`;
  } else if (left.length === 0) {
    advice = `restore could not tell whether it removed what it wrote: ${unreadNote("")}; remove any of them still there before restoring into it again`;
  } else {
    advice = `restore could not remove what it wrote: ${left.length} file(s) are left in ${dir} (${firstNames(left)}), and ${unreadNote(" more")}; remove them, and any of the others still there, before restoring into it again`;
  }
  return withUndoAdvice(failure, dir, advice);
}

/**
 * `failure` with `advice` (what is left in `dir` and what to do about it) in its message: a `WalError` keeps its code,
 * details and cause (see `withAdvice`); anything else (a file-system seam or a store that threw something of its own)
 * becomes `WAL_IO` with it as the `cause`, since only a `WalError` can carry the advice.
 */
function withUndoAdvice(failure: unknown, dir: string, advice: string): WalError {
  const error = isWalError(failure)
    ? failure
    : new WalError("WAL_IO", `restore failed: ${shownError(failure)}`, { cause: failure, details: { path: dir } });
  return withAdvice(error, advice);
}

/**
 * Undo the renames of a failed restore: the empty successor first when there is one (the log without it is whole), then
 * the segments oldest first (`visible` holds them in rename order, newest first), the directory fsynced after each, so
 * that a crash part-way leaves the newest segments without the oldest (which fails to open with `WAL_FENCE_TOO_LOW`),
 * never the oldest without the newest (a shorter log that opens as whole). Best effort: a removal that fails (of a file
 * still there) ends it, leaving the rest in place, for the same reason.
 */
async function removeVisible(fs: WalFileSystem, dir: string, visible: readonly string[]): Promise<void> {
  for (const path of [...visible].reverse()) {
    try {
      await fs.unlink(path);
    } catch {
      // A file that is not there (a successor whose creation failed at its open) is as good as removed.
      if ((await fs.stat(path).catch(() => undefined)) === null) continue;
      return;
    }
    try {
      await fs.syncDir(dir);
    } catch {
      return;
    }
  }
}

function checkOptions(options: RestoreOptions): RestoreOptions {
  const bad = (what: string) => new WalError("WAL_INVALID_OPTION", `restore: ${what}`);
  // Options that are not an object are refused there, as by every entry point. Each option read once: restore uses what is returned, never `options` again.
  const read = checkOptionNames(options, RESTORE_OPTION_NAMES, "restore");
  const { store, dir, toLsn, fromLsn, onProgress, signal } = read;
  checkArchiveStore(store, "WAL_INVALID_OPTION", "restore", READ_CALLS);
  if (typeof dir !== "string" || dir === "") throw bad(`dir must be a non-empty string, got ${shownValue(dir)}`);
  if (onProgress !== undefined && typeof onProgress !== "function") throw bad("onProgress must be a function");
  assertSignalOption(signal, "restore");
  const lsn = (name: string, v: unknown) => {
    if (v !== undefined && !(Number.isSafeInteger(v) && (v as number) >= 0)) {
      throw bad(`${name} must be a non-negative safe integer, got ${shownValue(v)}`);
    }
  };
  lsn("toLsn", toLsn);
  lsn("fromLsn", fromLsn);
  if (toLsn !== undefined && fromLsn !== undefined && toLsn < fromLsn) {
    throw bad(`toLsn ${toLsn} is below fromLsn ${fromLsn}: the snapshot is already past it`);
  }
  return read;
}

/**
 * `dir` must not exist, be an empty directory, or hold only the segment files a restore wrote and did not rename
 * into place (`*.restoring`, exactly the names a restore writes), beside or without the lock
 * file ({@link LOCK_FILE_NAME}: the lock restore takes, left by a `Wal.open` or by a restore that was killed).
 * @returns those `*.restoring` names.
 */
async function checkTarget(fs: WalFileSystem, dir: string): Promise<string[]> {
  const stat = await fs.stat(dir);
  if (stat === null) return [];
  if (!stat.isDirectory) {
    throw new WalError("WAL_INVALID_OPTION", `restore: ${dir} exists and is not a directory`, {
      details: { path: dir },
    });
  }
  // The lock file is no entry in the way: restore takes that lock, and a killed holder leaves the file behind.
  const all = await fs.readdir(dir);
  const names = all.filter((n) => n !== LOCK_FILE_NAME);
  if (names.every((n) => parseRestoringSegmentId(n) !== undefined)) {
    return names;
  }
  throw new WalError(
    "WAL_INVALID_OPTION",
    `restore: ${dir} is not empty (${names.length} ${names.length === 1 ? "entry" : "entries"}: ${firstNames(names)}); restore writes a new log directory and never merges into one`,
    { details: { path: dir } },
  );
}

/**
 * Once this restore's own `*.restoring` files are all written and fsynced, remove the leftovers it did not replace
 * (a restore of another range left them), before its first rename: renamed segments must not sit above files of
 * another restore. `dir` is fsynced first, so that its new entries are durable before the old ones go (a crash
 * meanwhile leaves this restore's files, still refused as a restore that did not finish), and after. `leftovers`
 * loses each name removed.
 */
async function removeStaleLeftovers(
  fs: WalFileSystem,
  dir: string,
  leftovers: Set<string>,
  written: ReadonlySet<string>,
): Promise<void> {
  const stale = [...leftovers].filter((name) => !written.has(name));
  if (stale.length === 0) return;
  await fs.syncDir(dir);
  for (const name of stale) {
    await fs.unlink(join(dir, name));
    leftovers.delete(name);
  }
  await fs.syncDir(dir);
}

/**
 * Undo a failed restore into a directory that held a restore's leftovers, leaving it a restore that did not finish
 * again (refused by every reader, as it was found), never an empty one: the empty successor is removed, then the
 * renamed segments are renamed back to their `*.restoring` names oldest first, the directory fsynced after each (a
 * crash part-way leaves the newest in place above `.restoring` files: the log starts late and opening refuses it),
 * and the `*.restoring` files stay. Best effort: a rename or fsync that fails ends it.
 * @returns the names of the segments left in place (empty when every rename was undone).
 */
async function renameBack(
  fs: WalFileSystem,
  dir: string,
  visible: readonly string[],
  written: readonly { temp: string; path: string }[],
  leftovers: Set<string>,
): Promise<string[]> {
  const temps = new Map(written.map((w) => [w.path, w.temp]));
  const left = [...visible];
  try {
    for (const path of [...visible].reverse()) {
      const temp = temps.get(path);
      if (temp === undefined) {
        // The successor: a file that is not there (its creation failed at its open) is as good as removed.
        await fs.unlink(path).catch(async (error: unknown) => {
          if ((await fs.stat(path).catch(() => undefined)) !== null) throw error;
        });
      } else {
        await fs.rename(path, temp);
        leftovers.add(basename(temp));
      }
      left.splice(left.indexOf(path), 1);
      await fs.syncDir(dir);
    }
    await fs.syncDir(dir);
  } catch {
    // Left as it is: what stays in place is named in the failure.
  }
  return left.map((path) => basename(path));
}

/**
 * The segments to restore, oldest first, or the first reason the archive cannot give them; with `gapAfter`, the
 * error to raise if toLsn lies beyond the last one's records (the segment after it is missing); with `next`, the
 * listing's index of the segment right after the last one (with toLsn only). `listing` is not empty (an empty one is
 * refused before, by {@link emptyArchiveError}).
 */
function planRestore(
  store: ArchiveStore,
  listing: readonly ArchivedSegment[],
  fromLsn: number | undefined,
  toLsn: number | undefined,
): { sources: SegmentSource[]; gapAfter: WalError | undefined; next: number | undefined } {
  const oldest = listing[0] as ArchivedSegment;
  const span = `segments ${oldest.id}..${(listing.at(-1) as ArchivedSegment).id}`;
  let first = 0;
  if (fromLsn !== undefined) {
    first = findLastIndex(listing, (s) => s.baseLsn <= fromLsn + 1);
    if (first < 0) {
      throw new WalError(
        "WAL_ARCHIVE_MISSING",
        `cannot restore from fence ${fromLsn}: ${store.name} starts at lsn ${oldest.baseLsn} (segment ${oldest.id}), so the records from ${fromLsn + 1} to ${oldest.baseLsn - 1} are not archived`,
        { details: { object: missingSegmentKey(oldest.id - 1), lsn: fromLsn + 1 } },
      );
    }
  }
  let last = listing.length - 1;
  let gapAfter: WalError | undefined;
  let next: number | undefined;
  if (toLsn !== undefined) {
    last = findLastIndex(listing, (s) => s.baseLsn <= toLsn);
    if (last < 0) {
      throw new WalError(
        "WAL_ARCHIVE_MISSING",
        `cannot restore to lsn ${toLsn}: ${store.name} starts at lsn ${oldest.baseLsn} (segment ${oldest.id}; it holds ${span})`,
        { details: { object: missingSegmentKey(oldest.id - 1), lsn: toLsn } },
      );
    }
    // A missing segment right after the last one holds records at or below toLsn if the last one's end is below it.
    const after = listing[last + 1];
    const lastId = (listing[last] as ArchivedSegment).id;
    if (after !== undefined && after.id === lastId + 1) next = last + 1;
    if (after !== undefined && after.id !== lastId + 1) {
      gapAfter = new WalError(
        "WAL_ARCHIVE_MISSING",
        `cannot restore to lsn ${toLsn}: segment ${lastId + 1} is missing from ${store.name} (it holds ${span}), and it holds the records after the last one of segment ${lastId}, at or below lsn ${toLsn}`,
        { details: { object: missingSegmentKey(lastId + 1), lsn: toLsn } },
      );
    }
    // fromLsn == toLsn with a segment starting right after: restore the one holding the fence itself.
    if (first > last) first = last;
  }
  const planned = planSegments(listing, first, last);
  const failed = planned.find((p) => p instanceof WalError);
  if (failed !== undefined) throw failed;
  return { sources: planned as SegmentSource[], gapAfter, next };
}

/**
 * When toLsn lies past the last restored segment's records, what says no record up to it is missing is the next
 * segment's key: its base LSN, above toLsn (the plan chose the last segment by it). That key is checked against the
 * next segment's header, from its first object (fetched and checked like any other: `onFetched` is told once it
 * is). The store reads whole objects only, so the whole object is fetched for its 32-byte header.
 * @throws {@link WalError} `WAL_ARCHIVE_CORRUPT` naming that object when its header does not decode or names another
 *   base LSN; what planning or fetching the object throws.
 */
async function checkNextBase(
  store: ArchiveStore,
  listing: readonly ArchivedSegment[],
  index: number,
  toLsn: number,
  signal: AbortSignal | undefined,
  onFetched: () => void,
): Promise<void> {
  const planned = planSegments(listing, index, index)[0] as SegmentSource | WalError;
  if (planned instanceof WalError) throw planned;
  const first = planned.parts[0] as SegmentPart;
  const source = { ...planned, parts: [first], size: first.to, others: [] };
  const bytes = await fetchSegment(store, source, { signal, onPart: onFetched });
  const refuse = (found: string, cause?: unknown) =>
    new WalError(
      "WAL_ARCHIVE_CORRUPT",
      `cannot restore to lsn ${toLsn}: ${first.key} names base lsn ${planned.baseLsn} (above lsn ${toLsn}, so segment ${planned.id - 1} would be the last), but ${found}`,
      { details: { object: first.key, lsn: toLsn }, ...(cause === undefined ? {} : { cause }) },
    );
  let baseLsn: number;
  try {
    baseLsn = decodeSegmentHeader(bytes.subarray(0, SEGMENT_HEADER_BYTES), first.key).baseLsn;
  } catch (error) {
    throw refuse("its header does not decode", error);
  }
  if (baseLsn !== planned.baseLsn) throw refuse(`its header says ${baseLsn}`);
}

function findLastIndex<T>(items: readonly T[], test: (item: T) => boolean): number {
  for (let i = items.length - 1; i >= 0; i--) if (test(items[i] as T)) return i;
  return -1;
}

/** The segment cut after its last record at or below `toLsn`, its header unsealed (only that flag and the CRC change). */
function cutUnsealed(bytes: Uint8Array, scan: SegmentScan): Uint8Array {
  const out = bytes.slice(0, scan.cutOffset);
  if (scan.header.sealed) {
    out.set(withSealedFlag(bytes.subarray(0, SEGMENT_HEADER_BYTES), false), 0);
  }
  return out;
}

/**
 * Write `bytes` to a new file at `path` and fsync it; with `overwrite`, to the file at `path` when there is one (its
 * bytes replaced in place: cut to 0 and written, so its name never leaves the directory), else to a new one.
 */
async function writeDurably(fs: WalFileSystem, path: string, bytes: Uint8Array, overwrite: boolean): Promise<void> {
  const file = await fs.open(path, overwrite ? "openOrCreate" : "createExclusive");
  try {
    if (overwrite) await file.truncate(0);
    await file.write(bytes, 0);
    await file.sync();
  } finally {
    await file.close();
  }
}
