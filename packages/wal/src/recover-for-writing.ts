/**
 * The part of `Wal.open` that runs under the directory lock before the handle exists: recover the directory
 * (replay, heal, cut a torn tail) and set up the segment lifecycle that takes over from recovery.
 */

import { durableBindingReadsBack } from "@lora/wal-replay";
import { DurableMarkWriter, removeSpareSegments, settleDurableBinding } from "@lora/wal-segment";
import type { OpenOptions } from "./open-options.js";
import { withFenceRemedy, withRemedy } from "./open-refusal-remedy.js";
import { type Recovered, recoverDir } from "./recover-dir.js";
import { SegmentLifecycle } from "./segment-lifecycle.js";
import { TESTING_BUILD } from "./testing-hooks.js";

/** What recovery left for the handle: the recovered directory and its segment lifecycle. */
export interface RecoveredForWriting<E> {
  readonly r: Recovered<E>;
  readonly segments: SegmentLifecycle;
}

/**
 * Recover `dir` (locked by the caller) with the checked options `o`.
 * @throws as `Wal.open` (the caller releases the lock); the files it opened are closed before it throws.
 */
export async function recoverForWriting<E>(dir: string, o: OpenOptions<E>): Promise<RecoveredForWriting<E>> {
  const { fs, codec, fence, allowTruncatedHistory, scanFrom, recovery, unsyncedWindowBytes, preallocateBytes } = o;
  const { failpoint, bugs } = o;
  // What the segment writers leave unsynced at most; recovery judges damage by the same window.
  const writerWindow = TESTING_BUILD && bugs.has("unsynced-window-ignored") ? 2 ** 30 : unsyncedWindowBytes;
  const r = await recoverDir({
    fs,
    dir,
    codec,
    checkpointLsn: fence,
    allowTruncatedHistory,
    scanFrom,
    recovery,
    unsyncedWindowBytes,
    writerOptions: { maxUnsyncedBytes: writerWindow, preallocateBytes },
    onTransaction: o.onTransaction,
    onProgress: o.onProgress,
    failpoint,
    bugs,
  }).catch(async (error: unknown) => {
    throw await withFenceRemedy(withRemedy(error, dir, recovery), fs, dir);
  });
  // Recovery made everything it kept durable (the tail rewritten and fsynced): the mark starts at maxLsn.
  let mark: DurableMarkWriter | null;
  try {
    // The mark's binding, read again and checked now that recovery has cut what it cut: one whose record still reads
    // back is carried over (the bytes up to it are as they were); any other is removed, durably, before anything is
    // appended, so no version of the mark a power loss could bring back speaks for bytes written after this open.
    const binding = await settleDurableBinding(fs, dir, (b) => durableBindingReadsBack(fs, dir, b));
    mark = o.publishDurableLsn ? await DurableMarkWriter.open(fs, dir, r.nextLsn, binding) : null;
  } catch (error) {
    // The active segment is open for appends: a failed open must not keep its descriptor (one per attempt, and an
    // EMFILE here would only grow the shortage that caused it). Nothing is buffered in it yet.
    await r.writer.discardAndClose().catch(() => undefined);
    throw error;
  }
  const segments = new SegmentLifecycle({
    dir,
    fs,
    activeId: r.activeSegmentId,
    oldestId: r.oldestSegmentId,
    unsyncedWindow: writerWindow,
    preallocateBytes,
    segmentTargetBytes: o.target,
    maxSlotRetainedBytes: o.maxSlotRetainedBytes,
    mark,
    failpoint,
    bugs,
  });
  // Spares a crash or a failed handle left hold no records; under the lock just taken they are no one's.
  await removeSpareSegments(fs, dir).catch(() => undefined);
  await segments.prepareSpareAtOpen(r.writer.size);
  return { r, segments };
}
