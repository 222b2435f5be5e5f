/**
 * Recovery at open: replay, act on what replay found as the recovery mode says, heal what a crash mid-rotation
 * leaves, and pick where appends resume (docs/recovery.md). Every action is reported, nothing is dropped silently:
 *
 * - a torn tail is copied to `<segment>.<offset>.broken`, then cut; when the disk has no room for the copy, it is
 *   cut without one (its bytes were never acknowledged) and the report says so (`brokenCopy: null`);
 * - in `point-in-time` mode, corruption is handled the same way, and every later segment is renamed to
 *   `<name>.broken`; its bytes may have been acknowledged, so without room for the copy recovery changes nothing
 *   and fails with `WAL_NO_SPACE` saying how much room it needs;
 * - a failed copy never leaves a partial or empty `.broken` file behind;
 * - a newest segment too short for its header (or all zeros) holds no records: it is removed, and created again
 *   unless appends resume in the unsealed segment before it;
 * - a sealed newest segment (a crash between seal and creating the next one) gets its successor created;
 * - `nextLsn` is `max(maxLsn + 1, active base LSN, fence + 1)`, so new records never fall at or below a fence or
 *   a segment base.
 */

import { basename } from "node:path";
import { errnoOf, type PayloadCodec, WalError } from "@lora/wal-codec";
import {
  type RecoveryMode,
  type ReplayedTransaction,
  type ReplayOutcome,
  type ReplayProgress,
  replayDir,
  type ScanFrom,
} from "@lora/wal-replay";
import {
  cutFile,
  lastNonZero,
  listSegments,
  SEGMENT_HEADER_BYTES,
  type SegmentEntry,
  SegmentWriter,
  type SegmentWriterOptions,
  segmentPath,
  type WalFileSystem,
} from "@lora/wal-segment";
import { type Failpoint, type PlantedBug, TESTING_BUILD } from "./testing-hooks.js";

/** One repair recovery made, as reported by `Wal.open`. */
export type HealAction =
  | {
      readonly kind: "tornTailTruncated";
      readonly segment: string;
      readonly offset: number;
      readonly droppedBytes: number;
      /** Where the cut bytes were kept; `null` when the disk had no room for them (see `copyError`). */
      readonly brokenCopy: string | null;
      /** Why no copy was kept (e.g. `ENOSPC`), when `brokenCopy` is null. */
      readonly copyError?: string;
    }
  | {
      readonly kind: "corruptionCut";
      readonly segment: string;
      readonly offset: number;
      readonly droppedBytes: number;
      /**
       * Where the cut bytes were kept; `null` when the cut lies at the segment's end (`droppedBytes` 0: what was lost
       * is the later segments, moved aside as `laterSegmentsMoved`), so there is no byte to keep.
       */
      readonly brokenCopy: string | null;
      readonly laterSegmentsMoved: readonly string[];
    }
  | { readonly kind: "headerlessSegmentRemoved"; readonly segment: string; readonly fileSize: number }
  | { readonly kind: "sealedSegmentSucceeded"; readonly sealed: string; readonly created: string };

export interface RecoverInput<E> {
  readonly fs: WalFileSystem;
  readonly dir: string;
  readonly codec: PayloadCodec<E>;
  readonly checkpointLsn: number;
  readonly allowTruncatedHistory: boolean;
  readonly scanFrom: ScanFrom;
  readonly recovery: RecoveryMode;
  readonly unsyncedWindowBytes: number;
  readonly writerOptions: SegmentWriterOptions;
  readonly onTransaction: ((tx: ReplayedTransaction<E>) => void | Promise<void>) | undefined;
  readonly onProgress?: ((progress: ReplayProgress) => void) | undefined;
  readonly failpoint: Failpoint;
  readonly bugs: ReadonlySet<PlantedBug>;
}

export interface Recovered<E> {
  readonly writer: SegmentWriter;
  readonly activeSegmentId: number;
  readonly oldestSegmentId: number;
  readonly maxLsn: number;
  readonly nextLsn: number;
  readonly events: E[];
  readonly outcome: ReplayOutcome | null;
  readonly healed: HealAction[];
}

export async function recoverDir<E>(input: RecoverInput<E>): Promise<Recovered<E>> {
  const { fs, dir, checkpointLsn, bugs } = input;
  let entries = await listSegments(fs, dir);
  const events: E[] = [];
  const healed: HealAction[] = [];
  let outcome: ReplayOutcome | null = null;
  let maxLsn = 0;
  // Set once the directory has been fsynced after every change this recovery made to it: the active segment's
  // entry is then durable, and the directory needs no fsync of its own before appends resume.
  let dirDurable = false;
  // A cut segment that appends resume in: its truncation is made durable by the rewrite's flush, not one of its own.
  let cutToSyncWithRewrite: string | null = null;

  if (entries.length > 0) {
    const silentCut = TESTING_BUILD && bugs.has("truncate-on-any-crc-error");
    const replay = replayDir(dir, {
      codec: input.codec,
      fs,
      checkpointLsn: TESTING_BUILD && bugs.has("fence-off-by-one") ? Math.max(0, checkpointLsn - 1) : checkpointLsn,
      allowTruncatedHistory: input.allowTruncatedHistory,
      scanFrom: input.scanFrom,
      unsyncedWindowBytes: input.unsyncedWindowBytes,
      recovery: silentCut ? "point-in-time" : input.recovery,
      ...(input.onProgress === undefined ? {} : { onProgress: input.onProgress }),
    });
    const onTransaction = input.onTransaction;
    for await (const tx of replay) {
      if (onTransaction !== undefined) {
        // Only a thenable is awaited: an `await` per transaction would cost a microtask for a plain callback too.
        const pending = onTransaction(tx);
        if (isThenable(pending)) await pending;
      } else for (const e of tx.events) events.push(e);
    }
    outcome = await replay.outcome();
    maxLsn = outcome.maxLsn;

    const damage = outcome.tornTail ?? outcome.corruption;
    if (damage !== null) {
      const segment = damage.segmentPath;
      const offset = damage.offset;
      const damagedAt = entries.findIndex((e) => e.path === segment);
      const later = entries.slice(damagedAt + 1);
      const moved: string[] = [];
      const silent = silentCut && outcome.corruption !== null;
      // The copy comes first: when the disk has no room for it, corruption (possibly acknowledged bytes) must leave
      // the directory as it was, and a torn tail (never acknowledged) is cut without one.
      // With no later segment to move, the directory holds nothing else to make durable before the cut: its fsync
      // runs beside the copy's, one fsync's wait less on every torn-tail open.
      const dirWithCopy = later.length === 0 ? dir : undefined;
      const size = (await fs.stat(segment))?.size ?? offset;
      // A corruption cut at the segment's end (the segment after it is missing) has no byte to keep: no empty copy
      // is made. (A torn tail always has bytes to cut.)
      const nothingCut = outcome.corruption !== null && size <= offset;
      const copy =
        silent || nothingCut ? { path: "", dataEnd: undefined } : await copyTail(fs, segment, offset, dirWithCopy);
      if (copy.path === null && outcome.corruption !== null) {
        const neededBytes = ((await fs.stat(segment))?.size ?? offset) - offset;
        throw new WalError(
          "WAL_NO_SPACE",
          `recovery must keep the ${neededBytes} bytes it would cut from ${segment} (from offset ${offset}) and the disk has no room for them (${copy.error}); free that much space and open again`,
          { details: { path: segment, segment, offset, neededBytes, errno: copy.error } },
        );
      }
      if (!silent) {
        for (const e of later) {
          const target = await unusedName(fs, e.path, "broken");
          await fs.rename(e.path, target);
          moved.push(target);
        }
      } else {
        for (const e of later) await fs.unlink(e.path);
      }
      const brokenCopy = nothingCut ? null : copy.path;
      // The moves (or removals) of later segments are made durable here; a copy's entry was, beside its fsync.
      if (later.length > 0) await fs.syncDir(dir);
      // Either the moves' fsync just above, or (no later segment) the one beside a copy that was made.
      dirDurable = later.length > 0 || (brokenCopy !== null && !silent);
      // An unsealed cut segment is where appends resume (it is the newest left): the rewrite before appends makes
      // its truncation durable. A sealed one is not opened again, so its cut is flushed here.
      const resumesHere = outcome.segments.find((s) => s.path === segment)?.sealed === false;
      // The copy read the whole tail: where its data ends spares the cut a second read (no copy: it reads the tail).
      const oneStep = TESTING_BUILD && bugs.has("one-step-tail-cut");
      await cutSegment(fs, segment, offset, !resumesHere, copy.dataEnd, oneStep);
      if (resumesHere) cutToSyncWithRewrite = segment;
      if (TESTING_BUILD) input.failpoint("recovery.afterTruncateTail");
      if (!silent) {
        healed.push(
          outcome.corruption !== null
            ? {
                kind: "corruptionCut",
                segment,
                offset,
                droppedBytes: size - offset,
                brokenCopy,
                laterSegmentsMoved: moved,
              }
            : {
                kind: "tornTailTruncated",
                segment,
                offset,
                droppedBytes: size - offset,
                brokenCopy,
                ...(copy.path === null ? { copyError: copy.error } : {}),
              },
        );
      }
      entries = entries.slice(0, damagedAt + 1);
    }

    const headerless = outcome.headerlessLastSegment;
    if (headerless !== null) {
      await fs.unlink(headerless.path);
      await fs.syncDir(dir);
      dirDurable = true;
      healed.push({ kind: "headerlessSegmentRemoved", segment: headerless.path, fileSize: headerless.fileSize });
      entries = entries.filter((e) => e.path !== headerless.path);
    }
  }

  const last: SegmentEntry | undefined = entries.at(-1);
  const lastSummary = last === undefined ? undefined : outcome?.segments.find((s) => s.path === last.path);
  // A successor's base must also lie above its sealed predecessor's, which holds no record when a cut (or a crash
  // between creating and writing it) left only its header: replay refuses a base that does not rise.
  const freshBase = Math.max(maxLsn + 1, checkpointLsn + 1, lastSummary?.sealed ? lastSummary.baseLsn + 1 : 0);

  let writer: SegmentWriter;
  let activeId: number;
  if (last === undefined || lastSummary === undefined || lastSummary.sealed) {
    // Fresh directory, only a headerless segment, or a sealed newest segment: start a new active segment.
    activeId = last === undefined ? (outcome?.headerlessLastSegment?.id ?? 1) : last.id + 1;
    if (!Number.isSafeInteger(activeId)) throw segmentIdsExhausted(dir);
    if (last !== undefined && lastSummary?.sealed) await persistHeader(fs, last.path);
    const path = segmentPath(dir, activeId);
    writer = await SegmentWriter.create(fs, path, freshBase, {
      ...input.writerOptions,
      syncDirectory: !(TESTING_BUILD && bugs.has("skip-dir-fsync-on-create")),
    });
    if (last !== undefined && lastSummary?.sealed) {
      healed.push({ kind: "sealedSegmentSucceeded", sealed: last.path, created: path });
    }
    entries = [...entries, { id: activeId, name: basename(path), path }];
  } else {
    activeId = last.id;
    writer = await SegmentWriter.openForAppend(fs, last.path, lastSummary.endOffset, input.writerOptions);
    try {
      // What replay read may sit in the page cache without being durable (a writer killed before its fsync, or an
      // fsync that failed): make it durable before anything new is acknowledged after it, so no later durable
      // record can follow a hole. Older segments were fsynced when they were sealed.
      await writer.rewriteInPlace({ withMetadata: cutToSyncWithRewrite === last.path });
      if (!dirDurable) await fs.syncDir(dir);
    } catch (error) {
      // Nothing of the failed rewrite may be written again by close(): the buffer is not trusted.
      await writer.discardAndClose().catch(() => undefined);
      throw error;
    }
  }

  const nextLsn =
    TESTING_BUILD && bugs.has("next-lsn-from-max-only")
      ? maxLsn + 1
      : Math.max(maxLsn + 1, writer.baseLsn, checkpointLsn + 1);
  // A refusal changes nothing: the writer is closed without cutting its zero tail (close() would truncate), and a
  // failing close does not replace the refusal.
  if (!Number.isSafeInteger(nextLsn)) {
    await writer.discardAndClose().catch(() => undefined);
    throw new WalError("WAL_MALFORMED", "WAL structure is malformed: WAL LSN space is exhausted");
  }
  // Resuming above the segment's next LSN (a fence past the log) needs a new segment for the first record, and the
  // last safe id has none: refused here, not by a rotation that would seal the segment and poison the handle.
  if (nextLsn > nextLsnOfSegment(writer, maxLsn) && activeId >= Number.MAX_SAFE_INTEGER) {
    await writer.discardAndClose().catch(() => undefined);
    throw segmentIdsExhausted(dir);
  }
  return {
    writer,
    activeSegmentId: activeId,
    oldestSegmentId: (entries[0] as SegmentEntry).id,
    maxLsn,
    nextLsn,
    events,
    outcome,
    healed,
  };
}

/**
 * The LSN a segment's next record would take if LSNs in it rise by one: after its last record (the log's newest,
 * `maxLsn`, when it holds any), else its base. A handle resuming above it starts a new segment first.
 */
export function nextLsnOfSegment(writer: SegmentWriter, maxLsn: number): number {
  return writer.size > SEGMENT_HEADER_BYTES ? maxLsn + 1 : writer.baseLsn;
}

/** The refusal of a log whose next segment would need an id past 2^53 - 1 (no name for it could be listed). */
function segmentIdsExhausted(dir: string): WalError {
  return new WalError(
    "WAL_MALFORMED",
    `WAL structure is malformed: WAL segment id space is exhausted (the newest segment has id ${Number.MAX_SAFE_INTEGER} and the log needs another)`,
    { details: { path: dir } },
  );
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === "object" || typeof value === "function") &&
    value !== null &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

/** The directory's fsync beside a `.broken` copy's failed (the copy itself is whole and durable). */
class DirectorySyncFailed {
  constructor(readonly cause: unknown) {}
}

/** Errnos that mean "the disk has no room": the copy is given up, not the recovery. */
const NO_SPACE = new Set(["ENOSPC", "EDQUOT"]);

/**
 * Copy the bytes of `path` from `offset` to the end into `<path>.<offset>.broken`, durably, and say where the
 * non-zero bytes of that tail end (`offset` when it is all zeros). When the disk has no room, the partial copy is
 * removed and `path: null` comes back with the errno (and no `dataEnd`: the tail was not all read); any other failure
 * is thrown. With `syncDir`, that directory is fsynced beside the copy's own fsync (after the copy's creation), so
 * that a copy that comes back is durable under its name too.
 */
async function copyTail(
  fs: WalFileSystem,
  path: string,
  offset: number,
  syncDir?: string,
): Promise<{ path: string; dataEnd: number; error?: undefined } | { path: null; dataEnd?: undefined; error: string }> {
  const target = await unusedName(fs, path, `${offset}.broken`);
  try {
    const dataEnd = await copyRange(fs, path, offset, target, syncDir);
    return { path: target, dataEnd };
  } catch (error) {
    // The directory's fsync failed, not the copy: keep the copy, and fail the recovery as before (never "no room").
    if (error instanceof DirectorySyncFailed) throw error.cause;
    const errno = errnoOf(error);
    await fs.unlink(target).catch(() => undefined);
    if (errno !== undefined && NO_SPACE.has(errno)) return { path: null, error: errno };
    throw error;
  }
}

/**
 * The piece size of a tail copy: 1 MiB, but a quarter of a tail under 4 MiB (at least 64 KiB). Memory touched for
 * the first time can cost more than copying it (on a VM measured, ~3 ms for a new MiB against ~0.3 ms to read it
 * from the page cache), so a small tail is copied in four pieces through a quarter of the memory; a large one gains
 * nothing from pieces smaller than 1 MiB but more round trips to the thread pool.
 */
function copyChunkBytes(tailBytes: number): number {
  return Math.max(1, Math.min(1 << 20, tailBytes, Math.max(64 * 1024, Math.ceil(tailBytes / 4))));
}

/** The copy of `copyTail`; returns where the non-zero bytes it copied end (`offset`: none). */
async function copyRange(
  fs: WalFileSystem,
  path: string,
  offset: number,
  target: string,
  syncDir: string | undefined,
): Promise<number> {
  const source = await fs.open(path, "read");
  try {
    const out = await fs.open(target, "createExclusive");
    try {
      const size = await source.size();
      const chunk = new Uint8Array(copyChunkBytes(size - offset));
      let at = offset;
      let dataEnd = offset;
      while (at < size) {
        const n = await source.read(chunk, 0, Math.min(chunk.byteLength, size - at), at);
        if (n === 0) break;
        const last = lastNonZero(chunk, n);
        if (last >= 0) dataEnd = at + last + 1;
        await out.write(chunk.subarray(0, n), at - offset);
        at += n;
      }
      // Both settle before either failure is reported: the file is closed (and removed) only once nothing runs on it.
      const [file, directory] = await Promise.allSettled([
        out.sync(),
        syncDir === undefined ? null : fs.syncDir(syncDir),
      ]);
      if (file.status === "rejected") throw file.reason;
      if (directory.status === "rejected") throw new DirectorySyncFailed(directory.reason);
      return dataEnd;
    } finally {
      await out.close();
    }
  } finally {
    await source.close();
  }
}

/**
 * `<path>.<suffix>`, or with a counter before the suffix when that exists already: an earlier recovery's copy of
 * cut bytes is never overwritten.
 */
async function unusedName(fs: WalFileSystem, path: string, suffix: string): Promise<string> {
  for (let n = 0; ; n++) {
    const candidate = n === 0 ? `${path}.${suffix}` : `${path}.${n}.${suffix}`;
    if ((await fs.stat(candidate)) === null) return candidate;
  }
}

/**
 * Make a sealed segment's header durable. Sealing writes the header after the records' fdatasync and fsyncs it;
 * a crash (or a failed fsync) between the two leaves a sealed header only in the page cache. A successor created
 * on top of it must not outlive it on disk, or the log would read as a stale unsealed segment followed by another.
 */
async function persistHeader(fs: WalFileSystem, path: string): Promise<void> {
  const file = await fs.open(path, "readWrite");
  try {
    const header = new Uint8Array(SEGMENT_HEADER_BYTES);
    const n = await file.read(header, 0, SEGMENT_HEADER_BYTES, 0);
    await file.write(header.subarray(0, n), 0);
    await file.datasync();
  } finally {
    await file.close();
  }
}

/**
 * Truncate `path` to `offset` as {@link cutFile} does (in two steps when data lies more than 4 KiB past it, so a power
 * loss leaves the damage as it was or with at most 4 KiB of data after it: a torn tail in every window `Wal.open`
 * allows); with `durable`, fsync it too (else the caller's next flush of the file does). `dataEnd`, when the caller
 * read the tail already: where its non-zero bytes end (else the cut reads the tail to find out). (`oneStep`: the
 * planted bug `one-step-tail-cut`, one ftruncate whatever lies past `offset`; false outside testing builds.)
 */
async function cutSegment(
  fs: WalFileSystem,
  path: string,
  offset: number,
  durable: boolean,
  dataEnd: number | undefined,
  oneStep: boolean,
): Promise<void> {
  const file = await fs.open(path, "readWrite");
  try {
    // A dataEnd of `offset` says nothing lies past the cut: cutFile then cuts in one step.
    await cutFile(file, offset, { durable, dataEnd: oneStep ? offset : dataEnd });
  } finally {
    await file.close();
  }
}
