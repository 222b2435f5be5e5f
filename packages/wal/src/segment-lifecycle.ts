/**
 * The segment lifecycle of a handle: the segment list, rotation (seal, create the next, make its name durable),
 * retention (truncation under replication slots) and durability progress, with events that the change feed and
 * archiving build on. The handle decides when (transaction boundaries, exclusivity, poisoning); this module does
 * the file work and tells listeners what happened, in the order it became true on disk.
 */

import { basename } from "node:path";
import { isWalError, shownError, shownValue, WalError } from "@lora/wal-codec";
import { invalidateSlot, listSlots, planRetention, type RetentionPlan, type RetentionSegment } from "@lora/wal-replay";
import {
  type DurableBinding,
  type DurableMarkWriter,
  encodeSegmentHeader,
  isMissingFileError,
  listSegments,
  parseSegmentId,
  SegmentReader,
  SegmentWriter,
  type SegmentWriterOptions,
  SpareSegment,
  segmentPath,
  type WalFileSystem,
  type WrittenRecord,
} from "@lora/wal-segment";
import { type Failpoint, type PlantedBug, TESTING_BUILD } from "./testing-hooks.js";

/** A segment as the lifecycle reports it. */
export interface SegmentInfo {
  readonly id: number;
  readonly path: string;
  /** The first LSN the segment was created for. */
  readonly baseLsn: number;
  /** Its size in bytes when reported (for a sealed segment, final). */
  readonly bytes: number;
}

/**
 * What listeners hear, each after it is true on disk:
 * - `sealed`: a segment was sealed and fsynced: immutable from now on (an archiver can upload it);
 * - `created`: the next segment exists and its name is durable;
 * - `durable`: every record at or below `lsn` is covered by an fdatasync; with `segmentId` and `offset` when the
 *   handle knows them: the fdatasync covered bytes [0, offset) of that segment, which end on a record boundary (an
 *   archiver ships that prefix without reading its records);
 * - `removed`: truncation deleted these segments (oldest first) and fsynced the directory;
 * - `slotInvalidated`: a replication slot held back more than `maxSlotRetainedBytes` and was invalidated;
 * - `closed`: the handle closed (everything it wrote is durable, unless it was poisoned).
 */
export type LifecycleEvent =
  | { readonly type: "sealed"; readonly segment: SegmentInfo }
  | { readonly type: "created"; readonly segment: SegmentInfo }
  | { readonly type: "durable"; readonly lsn: number; readonly segmentId?: number; readonly offset?: number }
  | { readonly type: "removed"; readonly segments: readonly SegmentInfo[] }
  | { readonly type: "slotInvalidated"; readonly slot: string; readonly retainedBytes: number }
  | { readonly type: "closed" };

/** A listener; it runs synchronously where the event happens, so it must be quick and must not throw. */
export type LifecycleListener = (event: LifecycleEvent) => void;

export interface LifecycleInit {
  readonly dir: string;
  readonly fs: WalFileSystem;
  readonly activeId: number;
  readonly oldestId: number;
  readonly unsyncedWindow: number;
  /** The writers' `preallocateBytes`. */
  readonly preallocateBytes: number;
  /** `segmentTargetBytes`: a zero-filled spare is made once the active segment's synced part reaches half of it. */
  readonly segmentTargetBytes: number;
  /** Limit on the log bytes a replication slot may hold back from truncation. */
  readonly maxSlotRetainedBytes: number;
  readonly mark: DurableMarkWriter | null;
  readonly failpoint: Failpoint;
  readonly bugs: ReadonlySet<PlantedBug>;
}

/** Slot names cannot contain `:`, so in-process holds never collide with slots on disk. */
const HOLD_PREFIX = "hold:";

/** What {@link SegmentLifecycle.truncate} deleted. */
export interface Truncation {
  /** How many segments were deleted. */
  readonly removed: number;
  /** The base LSN of the oldest segment left, when any was deleted (`undefined` when none was). */
  readonly oldestBaseLsn: number | undefined;
}

/** An in-process hold's position, as its `position()` gave it at the start of a truncation. */
export interface HoldPosition {
  readonly name: string;
  readonly confirmedLsn: number;
  /** The hold's `position` as registered: a hold released and registered again under its name is another hold. */
  readonly position: () => number;
}

/** What a truncation deletes and invalidates, decided from the segments it listed (see `planTruncation`). */
export interface TruncationPlan {
  readonly segments: readonly RetentionSegment[];
  readonly plan: RetentionPlan;
  readonly holds: readonly HoldPosition[];
  /** How many holds had been registered when the holds were asked: a later one is checked before each deletion. */
  readonly holdsRegistered: number;
}

export class SegmentLifecycle {
  readonly #dir: string;
  readonly #fs: WalFileSystem;
  readonly #unsyncedWindow: number;
  readonly #preallocateBytes: number;
  /**
   * Where in the active segment the next spare is started (its synced bytes), or 0 to start it as soon as the last one
   * was used. A zero-filled spare's fdatasync started at rotation would run beside the rotating commit's own, and
   * measurably slow it: it waits until the segment is half full.
   */
  readonly #spareFrom: number;
  readonly #maxSlotRetained: number;
  readonly #mark: DurableMarkWriter | null;
  readonly #failpoint: Failpoint;
  readonly #bugs: ReadonlySet<PlantedBug>;
  readonly #listeners = new Set<LifecycleListener>();
  readonly #holds = new Map<string, () => number>();
  /**
   * Holds registered so far, but for those registered again from a `slotInvalidated` listener: a truncation notices
   * one registered while it runs.
   */
  #holdsRegistered = 0;
  /**
   * Base LSN and size of the segments below the active one, once a listing has read them: neither changes after
   * rotation has moved on (truncation, which removes a segment, is all that touches it again), so truncation reads
   * each header once rather than at every call. A slot holding back n segments made every checkpoint open all n
   * while commits waited.
   */
  readonly #known = new Map<number, SegmentInfo>();
  #activeId: number;
  #oldestId: number;
  #durable = 0;
  /** The segment file the last binding named, and its id. */
  #boundPath = "";
  #boundId: number | undefined;
  /** The next segment, made ahead of rotation and ready for it (see {@link SegmentLifecycle.prepareSpare}). */
  #spare: SpareSegment | undefined;
  /** The making of the next spare, while under way. */
  #preparing: Promise<void> | undefined;
  /** Closing: no spare is started from now on, and one that finishes is discarded, not kept. */
  #closing = false;
  /**
   * The active segment for which making a spare failed: not tried again before the next rotation (each sync round
   * would otherwise start another zero fill on a disk that is failing or full).
   */
  #spareFailedIn = 0;

  constructor(init: LifecycleInit) {
    this.#dir = init.dir;
    this.#fs = init.fs;
    this.#unsyncedWindow = init.unsyncedWindow;
    this.#preallocateBytes = init.preallocateBytes;
    this.#spareFrom = init.preallocateBytes > 0 ? Math.floor(init.segmentTargetBytes / 2) : 0;
    this.#maxSlotRetained = init.maxSlotRetainedBytes;
    this.#mark = init.mark;
    this.#failpoint = init.failpoint;
    this.#bugs = init.bugs;
    this.#activeId = init.activeId;
    this.#oldestId = init.oldestId;
  }

  /** The segment being appended to (the highest id). */
  get activeId(): number {
    return this.#activeId;
  }

  /** The oldest segment still in the directory. */
  get oldestId(): number {
    return this.#oldestId;
  }

  /**
   * Hold segments back from truncation from this process, at once (no file written): while registered, truncation
   * keeps every segment holding a record above `position()`, as a replication slot at that position would, within
   * `maxSlotRetainedBytes` (past it the hold is dropped and `slotInvalidated` names it). Returns the release.
   */
  retain(name: string, position: () => number): () => void {
    this.#holds.set(name, position);
    this.#holdsRegistered++;
    return () => {
      if (this.#holds.get(name) === position) this.#holds.delete(name);
    };
  }

  /**
   * Where each in-process hold stands now, asked of its `position()`. A hold is its holder's code: one that throws
   * or answers something that is not an LSN is the caller's mistake, refused before truncation starts (so it can
   * never fail the truncation's I/O, which poisons the handle).
   * @throws {@link WalError} `WAL_INVALID_ARGUMENT` naming the hold, with the position's error as `cause`.
   */
  holdPositions(): HoldPosition[] {
    return [...this.#holds].map(([name, position]) => ({ name, confirmedLsn: askHold(name, position), position }));
  }

  /** Listen to lifecycle events; returns the function that stops listening. */
  on(listener: LifecycleListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit(event: LifecycleEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        // A listener's bug must not fail a commit or poison the log; it is reported, not swallowed silently. It may
        // throw anything, so it is shown as a value that cannot throw in turn (out of a commit's fsync, say).
        process.emitWarning(`a @lora/wal lifecycle listener threw on "${event.type}": ${shownError(error)}`);
      }
    }
  }

  /**
   * Every record at or below `lsn` is fsynced: tell other processes (the durable mark) and listeners. Called before
   * the commits it covers are acknowledged, so a follower never lags an acknowledgement. `record`, the record the
   * fsync covered the end of, binds the mark to the bytes it vouches for.
   */
  noteDurable(lsn: number, bytes?: number, record?: WrittenRecord): void {
    if (
      bytes !== undefined &&
      this.#zeroFilledSpareDue(bytes) &&
      this.#spare === undefined &&
      this.#spareFailedIn !== this.#activeId
    ) {
      void this.prepareSpare();
    }
    if (lsn <= this.#durable) return;
    this.#durable = lsn;
    const mark = this.#mark;
    if (mark !== null) mark.publish(lsn, false, record === undefined ? undefined : this.#bindingOf(record));
    if (this.#listeners.size === 0) return;
    const told = TESTING_BUILD && this.#bugs.has("durable-event-one-short") ? lsn - 1 : lsn;
    this.#emit(
      bytes === undefined
        ? { type: "durable", lsn: told }
        : { type: "durable", lsn: told, segmentId: this.#activeId, offset: bytes },
    );
  }

  /** What the durable mark says of `record`; `undefined` when its file is not named as a segment. */
  #bindingOf(record: WrittenRecord): DurableBinding | undefined {
    // The id is parsed once per segment, not at every fsync.
    if (record.path !== this.#boundPath) {
      this.#boundPath = record.path;
      this.#boundId = parseSegmentId(basename(record.path));
    }
    const segmentId = this.#boundId;
    if (segmentId === undefined) return undefined;
    return {
      segmentId,
      recordOffset: record.offset,
      recordBytes: record.bytes,
      recordLsn: record.lsn,
      recordCrc: record.crc,
    };
  }

  /**
   * Start making the next segment in the background (a spare: created, and zero-filled as far as the writers
   * preallocate, under a name no listing takes for a segment), so rotation need not create a file while commits
   * wait; nothing when one is ready or under way. Started once the active segment's synced part reaches half its
   * target (a zero-filled spare), or right after a rotation (an empty one), not waited for; `Wal.open` waits for the
   * one it finds due (see {@link SegmentLifecycle.prepareSpareAtOpen}).
   * Never rejects: when making the spare fails, rotation creates the segment itself and reports any error then.
   */
  prepareSpare(): Promise<void> {
    if (this.#spare !== undefined || this.#closing) return Promise.resolve();
    const forSegment = this.#activeId;
    this.#preparing ??= SpareSegment.prepare(this.#fs, this.#dir, this.#preallocateBytes).then(
      (spare) => {
        this.#preparing = undefined;
        this.#spare = spare;
      },
      () => {
        this.#preparing = undefined;
        this.#spareFailedIn = forSegment;
      },
    );
    return this.#preparing;
  }

  /**
   * The spare at open, by the rule a running handle follows: made now (and waited for) when it is due now (the
   * recovered active segment already holds half its target, or spares are empty files made right after each
   * rotation), else left to the first sync round that takes the segment past half. A small segment's open does not
   * wait for a zero fill and its fdatasync that rotation needs only much later.
   */
  async prepareSpareAtOpen(activeBytes: number): Promise<void> {
    if (this.#spareFrom === 0 || this.#zeroFilledSpareDue(activeBytes)) await this.prepareSpare();
  }

  /**
   * Whether a zero-filled spare is due for an active segment holding `activeBytes`: spares are zero-filled and the
   * segment holds half its target (the one rule of a running handle's sync rounds and of `Wal.open`).
   */
  #zeroFilledSpareDue(activeBytes: number): boolean {
    return this.#spareFrom > 0 && activeBytes >= this.#spareFrom;
  }

  /** The handle is closing: start no more spares (its final flush must not start one only for close to remove it). */
  stopSpares(): void {
    this.#closing = true;
  }

  /**
   * Seal `old` (flush, fsync, sealed header) and make the next segment at `nextLsn`: the spare stamped with its header
   * beside the seal and renamed, or (when no spare is ready: making it failed, or is still under way, which rotation
   * does not wait for) a file created now; its name is made durable by a directory fsync before it is used. Any
   * failure propagates (the handle poisons itself). `onSealed` is called once the seal succeeded, before anything
   * else can fail: every record of `old` is fsynced from then on, whatever the rest of the rotation does.
   */
  async rotate(old: SegmentWriter, nextLsn: number, onSealed?: () => void): Promise<SegmentWriter> {
    const spare = this.#spare;
    this.#spare = undefined;
    const seal = TESTING_BUILD && this.#bugs.has("seal-over-zero-tail") ? sealKeepingZeros(this.#fs, old) : old.seal();
    // Both settle before rotation goes on or fails: neither is left running unobserved.
    const [sealed, stamped] = await Promise.allSettled([seal, spare?.stamp(nextLsn)]);
    // A seal that completed fsynced the old segment's records (a planted bug's seal, which leaves it unsealed, is not
    // trusted): they are durable even if the spare's stamp failed beside it.
    if (sealed.status === "fulfilled" && old.sealed) onSealed?.();
    const failed = sealed.status === "rejected" ? sealed : stamped.status === "rejected" ? stamped : undefined;
    if (failed !== undefined) {
      await spare?.discard(true).catch(() => undefined);
      throw failed.reason;
    }
    if (TESTING_BUILD) this.#failpoint("rotate.afterSeal");
    const sealedInfo: SegmentInfo = {
      id: this.#activeId,
      path: old.path,
      baseLsn: old.baseLsn,
      bytes: old.size,
    };
    const nextId = this.#activeId + 1;
    const path = segmentPath(this.#dir, nextId);
    const options: SegmentWriterOptions = {
      syncDirectory: false,
      maxUnsyncedBytes: this.#unsyncedWindow,
      // The sealed writer's buffers, already grown to what its appends needed (a planted bug may leave it unsealed).
      ...(old.sealed ? { buffers: old.giveUpBuffers() } : { bufferBytes: old.bufferCapacity }),
      preallocateBytes: this.#preallocateBytes,
    };
    // The directory fsync is done here rather than inside create, so a failpoint can sit between the two.
    const writer =
      spare === undefined
        ? await SegmentWriter.create(this.#fs, path, nextLsn, options)
        : await spare.becomeSegment(path, options);
    try {
      if (TESTING_BUILD) this.#failpoint("rotate.afterCreate");
      if (!(TESTING_BUILD && this.#bugs.has("skip-dir-fsync-on-create"))) await this.#fs.syncDir(this.#dir);
      if (TESTING_BUILD) this.#failpoint("rotate.afterDirFsync");
    } catch (error) {
      await writer.close().catch(() => undefined);
      throw error;
    }
    this.#activeId = nextId;
    if (this.#spareFrom === 0) void this.prepareSpare();
    this.#emit({ type: "sealed", segment: sealedInfo });
    this.#emit({ type: "created", segment: { id: nextId, path: writer.path, baseLsn: nextLsn, bytes: writer.size } });
    return writer;
  }

  /**
   * The segments in the directory, oldest first, with base LSNs and sizes (one header read and stat each). Safe
   * beside commits: a segment a rotation is still creating (its id above the active one's: no header yet, no
   * records) is not listed, and one a truncation removed after the listing is left out.
   */
  list(): Promise<SegmentInfo[]> {
    return this.#list(false);
  }

  /** {@link SegmentLifecycle.list}; with `useKnown`, a segment below the active one read before is not read again. */
  async #list(useKnown: boolean): Promise<SegmentInfo[]> {
    const out: SegmentInfo[] = [];
    const entries = await listSegments(this.#fs, this.#dir);
    // Read after the listing: a rotation that finished since has written the header of the segment it created.
    const active = this.#activeId;
    for (const entry of entries) {
      if (entry.id > active) continue;
      const known = useKnown ? this.#known.get(entry.id) : undefined;
      if (known !== undefined) {
        out.push(known);
        continue;
      }
      let reader: SegmentReader;
      try {
        reader = await SegmentReader.open(this.#fs, entry.path);
      } catch (error) {
        if (isMissingFileError(error)) continue;
        throw error;
      }
      const info: SegmentInfo = {
        id: entry.id,
        path: entry.path,
        baseLsn: reader.header.baseLsn,
        bytes: reader.fileSize,
      };
      out.push(info);
      // Only truncation fills it: it runs with the handle exclusive, so no truncation can remove a segment it reads.
      if (useKnown && entry.id < active) this.#known.set(entry.id, info);
      await reader.close();
    }
    return out;
  }

  /**
   * Decide what a truncation at `fenceLsn` deletes: the sealed segments whose every record is at or below it and
   * that no valid replication slot (or in-process hold) still needs. The active segment and the one before it are
   * always kept. Only reads (the segments' headers, the slots' files): a failure here has changed nothing, and is
   * no reason to poison the handle.
   * @throws {@link WalError} `WAL_INVALID_ARGUMENT` for a hold whose position is not an LSN (see `holdPositions`);
   *   what reading throws (`WAL_IO`, `WAL_BAD_HEADER`, `WAL_CORRUPT` for a damaged slot file).
   */
  async planTruncation(fenceLsn: number): Promise<TruncationPlan> {
    // Asked first, with the count of holds registered by then: one registered later is checked before each deletion.
    const holds = this.holdPositions();
    const holdsRegistered = this.#holdsRegistered;
    const segments: RetentionSegment[] = await this.#list(true);
    const onDisk = await listSlots(this.#dir, { fs: this.#fs });
    // In-process holds count as slots (named apart from the ones on disk); past the limit they are dropped when the
    // plan is carried out, not written anywhere, and their holder hears `slotInvalidated`.
    const slots = [
      ...onDisk,
      ...holds.map(({ name, confirmedLsn }) => ({
        name: `${HOLD_PREFIX}${name}`,
        confirmedLsn,
        restartLsn: confirmedLsn + 1,
        createdAtMs: 0,
        invalidated: null,
      })),
    ];
    const plan = planRetention({
      segments,
      fenceLsn,
      keepFromId: this.#activeId - 1,
      slots,
      maxSlotRetainedBytes: this.#maxSlotRetained,
    });
    return { segments, plan, holds, holdsRegistered };
  }

  /**
   * Carry out a `planTruncation` plan: a slot that would hold back more than `maxSlotRetainedBytes` is invalidated
   * first (durably) and then ignored; the segments are deleted oldest first, each removal made durable before the
   * next (a crash leaves a shorter prefix removed, never a hole). Returns how many were deleted and the base LSN of
   * the oldest segment left. The caller holds the handle exclusive (since the plan was made) and has made everything
   * appended durable.
   */
  async truncate({ segments, plan, holds, holdsRegistered }: TruncationPlan): Promise<Truncation> {
    for (const inv of plan.invalidate) {
      if (inv.slot.startsWith(HOLD_PREFIX)) {
        const name = inv.slot.slice(HOLD_PREFIX.length);
        // Only the hold that was asked: one released and registered again since is not the one past the limit.
        const asked = holds.find((hold) => hold.name === name)?.position;
        if (asked !== undefined && this.#holds.get(name) === asked) {
          this.#holds.delete(name);
          this.#emitInvalidated(name, inv.retainedBytes);
        }
        continue;
      }
      try {
        await invalidateSlot(this.#dir, inv.slot, {
          fs: this.#fs,
          oldestRetainedLsn: inv.oldestRetainedLsn,
          retainedBytes: inv.retainedBytes,
          reason: inv.reason,
        });
      } catch (e) {
        // Dropped since the plan read it (by its consumer, or another process): it holds back nothing now, and
        // there is nothing to invalidate. Any other failure is the truncation's.
        if (isWalError(e, "WAL_SLOT_NOT_FOUND")) continue;
        throw e;
      }
      this.#emitInvalidated(inv.slot, inv.retainedBytes);
    }
    if (plan.drop.length === 0) return { removed: 0, oldestBaseLsn: undefined };
    if (TESTING_BUILD) this.#failpoint("truncate.beforeUnlink");
    const removed: SegmentInfo[] = [];
    // Where the segment after the last one removed is in the listing (oldest first): one pass for all removals.
    let next = 0;
    let oldestBaseLsn: number | undefined;
    try {
      for (const segment of plan.drop) {
        // Segments are removed oldest first and the active one is kept, so the listing holds the next one.
        while (next < segments.length && (segments[next] as RetentionSegment).id <= segment.id) next++;
        const lastLsn = (segments[next] as RetentionSegment).baseLsn - 1;
        // A hold registered while truncation ran is effective at once too: what it needs is kept (and what follows).
        if (this.#holdsRegistered !== holdsRegistered && this.#heldNow(lastLsn)) break;
        // So is a slot created meanwhile, by this process or another, once its file is there.
        if (await this.#slotOnDiskNeeds(lastLsn)) break;
        await this.#fs.unlink(segment.path);
        this.#known.delete(segment.id);
        if (TESTING_BUILD) this.#failpoint("truncate.afterUnlink");
        await this.#fs.syncDir(this.#dir);
        if (TESTING_BUILD) this.#failpoint("truncate.afterDirFsync");
        removed.push(segment);
        if (segment.id >= this.#oldestId) this.#oldestId = segment.id + 1;
        oldestBaseLsn = segments[next]?.baseLsn;
      }
    } finally {
      if (removed.length > 0) this.#emit({ type: "removed", segments: removed });
    }
    return { removed: removed.length, oldestBaseLsn };
  }

  /**
   * Tell the listeners a slot or hold was dropped past `maxSlotRetainedBytes`. A holder that registers its hold again
   * from the listener is not a hold this truncation must wait for: it would keep the log past the limit it was just
   * dropped for, at every truncation. The next truncation asks it (and drops it again if it is still that far behind).
   */
  #emitInvalidated(slot: string, retainedBytes: number): void {
    const registered = this.#holdsRegistered;
    this.#emit({ type: "slotInvalidated", slot, retainedBytes });
    this.#holdsRegistered = registered;
  }

  /**
   * Whether a valid slot on disk now needs the record at `lsn`: its restart point is at or below it. The plan keeps
   * every segment the slots it read need, and a slot only moves forward or is invalidated (its marker written before
   * any deletion), so such a slot is one created since the plan read `slots/`, or dropped and created again under the
   * same name: every slot file is read again, since neither its name nor an earlier reading tells them apart. Failing
   * to list or read keeps everything now: this runs where a failure poisons the handle, and the next truncation's
   * plan reads the same files and reports what is wrong.
   */
  async #slotOnDiskNeeds(lsn: number): Promise<boolean> {
    try {
      const slots = await listSlots(this.#dir, { fs: this.#fs });
      return slots.some((slot) => slot.invalidated === null && slot.restartLsn <= lsn);
    } catch {
      return true;
    }
  }

  /**
   * Whether a hold registered now needs the record at `lsn`: its position is below it, or it cannot say (a
   * position that throws or is no LSN, which is refused at the next truncation's start, keeps everything now).
   */
  #heldNow(lsn: number): boolean {
    for (const [name, position] of this.#holds) {
      try {
        if (askHold(name, position) < lsn) return true;
      } catch {
        return true;
      }
    }
    return false;
  }

  /**
   * The handle closed: publish the final durable LSN with the closed flag; `null` (a poisoned handle) writes
   * nothing, so the mark keeps saying what was durable before the failure.
   */
  async close(finalDurableLsn: number | null): Promise<void> {
    this.#closing = true;
    await this.#preparing;
    // A poisoned handle leaves its spare's name (the next open removes it): the handle may have lost its directory.
    await this.#spare?.discard(finalDurableLsn !== null).catch(() => undefined);
    this.#spare = undefined;
    if (finalDurableLsn !== null) {
      this.noteDurable(finalDurableLsn);
      await this.#mark?.close(finalDurableLsn);
    } else await this.#mark?.abandon();
    this.#emit({ type: "closed" });
    this.#listeners.clear();
  }
}

/** The planted bug `seal-over-zero-tail`: the records made durable, then the sealed header, the zeros left after them. */
async function sealKeepingZeros(fs: WalFileSystem, writer: SegmentWriter): Promise<void> {
  await writer.flush();
  const file = await fs.open(writer.path, "readWrite");
  try {
    await file.write(encodeSegmentHeader({ baseLsn: writer.baseLsn, sealed: true }), 0);
    await file.datasync();
  } finally {
    await file.close();
  }
}

/**
 * A hold's position, asked of its `position()`.
 * @throws {@link WalError} `WAL_INVALID_ARGUMENT` naming the hold when `position()` throws (the error as `cause`) or
 *   returns something that is not a non-negative safe integer.
 */
function askHold(name: string, position: () => number): number {
  let lsn: unknown;
  try {
    lsn = position();
  } catch (cause) {
    throw new WalError("WAL_INVALID_ARGUMENT", `the position() of retain hold "${name}" threw`, { cause });
  }
  if (typeof lsn !== "number" || !Number.isSafeInteger(lsn) || lsn < 0) {
    throw new WalError(
      "WAL_INVALID_ARGUMENT",
      `the position() of retain hold "${name}" must return a non-negative safe integer (an LSN), got ${shownValue(lsn)}`,
    );
  }
  return lsn;
}
