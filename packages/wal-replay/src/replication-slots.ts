/**
 * Replication slots: the persistent, named positions of the consumers of the change feed, kept in the log
 * directory (PostgreSQL's replication slots, reduced to what a write-ahead log of one writer needs).
 *
 * A slot keeps its consumer's exact resume token: `confirmedLsn`, the commit LSN of the last transaction the
 * consumer has fully processed, and `restartLsn`, where reading must start again so that nothing committed after it
 * is missed (the lowest begin of a transaction still open then; `confirmedLsn + 1` when none was). The consumer
 * resumes with the transactions begun at or above `restartLsn` and committed above `confirmedLsn`. Truncation must
 * not delete records at or above the lowest `restartLsn` of the slots (see `planRetention`), unless a slot holds back
 * too much of the log: it is then invalidated, and its consumer has to start again from a new base.
 *
 * Files, all in `<dir>/slots/` (`*.tmp` files are leftovers of an interrupted write; readers ignore them):
 *
 * `<name>.slot`, the position ({@link SLOT_FILE_BYTES} bytes, little-endian; version 2):
 *
 * | offset | size | field |
 * | ------ | ---- | ----- |
 * | 0      | 8    | magic {@link SLOT_FILE_MAGIC}, `"LWSLOT\0\x02"` (the last byte is the format version) |
 * | 8      | 8    | u64 `confirmedLsn` |
 * | 16     | 8    | u64 `restartLsn` (at most `confirmedLsn + 1`) |
 * | 24     | 8    | u64 `createdAtMs` (milliseconds since the Unix epoch when the slot was created) |
 * | 32     | 4    | u32 CRC-32/IEEE of bytes 0..32 |
 *
 * Version 1 (28 bytes, magic `"LWSLOT\0\x01"`: `confirmedLsn` at 8, `createdAtMs` at 16, the CRC of 0..24 at 24)
 * is still read, with `restartLsn = confirmedLsn + 1`; the next advance writes version 2.
 *
 * `<name>.invalidated`, the sticky invalidation marker: the slot is invalidated if and only if this file exists.
 * It is written whole under `<name>.invalidated.<random>.tmp`, fsynced, and hard-linked to its name (the seam's
 * `link`, which never replaces: the first marker stands), so the name never shows a body not yet written; it is
 * never rewritten, and no write of the position ever touches it, so a consumer advancing its slot in another process
 * cannot undo an invalidation. (A seam without `link`, or a file system without hard links, creates the name with
 * `createExclusive` and writes the body after; a caller racing that one may read the details as unreadable.) Its
 * body only feeds messages (little-endian):
 *
 * | offset | size | field |
 * | ------ | ---- | ----- |
 * | 0      | 8    | magic {@link SLOT_MARKER_MAGIC}, `"LWSINV\0\x01"` |
 * | 8      | 8    | u64 `oldestRetainedLsn`: the first LSN the log still held when the slot was invalidated |
 * | 16     | 8    | u64 `retainedBytes`: the bytes of log the slot held back then |
 * | 24     | 4    | u32 `n`: the byte length of the reason |
 * | 28     | n    | the reason, UTF-8 |
 * | 28 + n | 4    | u32 CRC-32/IEEE of bytes 0..28 + n |
 *
 * Crash safety: the position file is replaced by writing `<name>.slot.<random>.tmp` (a name of its own per write,
 * created exclusively), fsyncing it, renaming it over `<name>.slot` and fsyncing `slots/`, so after a crash at any
 * point a slot reads as its old or its new position, never as a torn file or a missing one. Creating `slots/` fsyncs
 * the log directory. With a seam that has `link`, a crash while invalidating leaves the slot valid or invalidated with
 * its whole marker (the body is durable before the link), and perhaps the marker's temp file, which readers ignore.
 * A marker body torn by a crash (written the old way, by a seam without `link`: the marker exists, its body was not
 * yet durable) still means "invalidated"; its details then read as `null`.
 *
 * Concurrency: each slot has one consumer, and only it advances the slot; the writer invalidates. Creating and
 * dropping slots are administrative operations that should not race with anything else on the same name. Should two
 * processes advance one slot anyway, each write is whole and its own and the last rename wins, so the slot may move
 * back to the position one of them stored (still safe for retention: an older position holds back more). One that
 * later advances it below the other's stored position is refused (`WAL_INVALID_ARGUMENT`, "cannot move back"); a
 * move back between two of its own advances goes unnoticed.
 */

import { randomBytes } from "node:crypto";
import { basename, join } from "node:path";
import { checkOptionNames, checkPath, crc32, errnoOf, optionNames, optionOr, WalError } from "@lora/wal-codec";
import { fileSystemOption, type WalFile, type WalFileSystem } from "@lora/wal-segment";
import { checkLogDir } from "./log-dir-check.js";
import { isRestartFor, restartAfter } from "./resume-token.js";
import { canRestartFrom, logEndBelow, oldestRetainedLsn } from "./segment-locate.js";

/** The subdirectory of the log directory that holds the slot files. */
export const SLOTS_DIR_NAME = "slots";

/** The magic of a slot file, `"LWSLOT\0\x02"`: 7 bytes of name and a format version byte (2). */
export const SLOT_FILE_MAGIC: Uint8Array = Uint8Array.of(0x4c, 0x57, 0x53, 0x4c, 0x4f, 0x54, 0x00, 0x02);
/** Version 1's magic: read, never written. */
const SLOT_FILE_MAGIC_V1: Uint8Array = Uint8Array.of(0x4c, 0x57, 0x53, 0x4c, 0x4f, 0x54, 0x00, 0x01);
/** Version 1's size. */
const SLOT_FILE_BYTES_V1 = 28;

/** The magic of an invalidation marker, `"LWSINV\0\x01"`. */
export const SLOT_MARKER_MAGIC: Uint8Array = Uint8Array.of(0x4c, 0x57, 0x53, 0x49, 0x4e, 0x56, 0x00, 0x01);

/** The exact size of a slot file (version 2): magic, confirmed LSN, restart LSN, creation time, CRC. */
export const SLOT_FILE_BYTES = 36;

/** The longest invalidation reason, in UTF-8 bytes. */
export const MAX_SLOT_REASON_BYTES = 4096;

/** Slot names: 1 to 64 ASCII letters, digits, `_` or `-` (so a name is always a safe file name). */
const SLOT_NAME = /^[A-Za-z0-9_-]{1,64}$/;

const SLOT_SUFFIX = ".slot";
const MARKER_SUFFIX = ".invalidated";
const TMP_SUFFIX = ".tmp";
const MARKER_HEADER_BYTES = 28;
const MARKER_MAX_BYTES = MARKER_HEADER_BYTES + MAX_SLOT_REASON_BYTES + 4;
const TWO_POW_32 = 0x1_0000_0000;
/** The high word of `Number.MAX_SAFE_INTEGER`: a u64 with a higher high word is not a safe integer. */
const MAX_SAFE_HIGH_WORD = 0x1f_ffff;

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Why and when a slot was invalidated, as its marker recorded it. */
export interface SlotInvalidation {
  /** The first LSN the log still held when the slot was invalidated; `null` when the marker's body is unreadable. */
  readonly oldestRetainedLsn: number | null;
  /** The bytes of log the slot held back when it was invalidated; `null` when the marker's body is unreadable. */
  readonly retainedBytes: number | null;
  /** Why it was invalidated (or that the marker's body could not be read). */
  readonly reason: string;
}

/** A replication slot as it is on disk. */
export interface SlotState {
  readonly name: string;
  /** The commit LSN of the last transaction the consumer has fully processed (0: none yet). */
  readonly confirmedLsn: number;
  /**
   * Where the consumer reads again from: records at or above it are kept for the slot (at most `confirmedLsn + 1`;
   * lower when a transaction was still open at `confirmedLsn`).
   */
  readonly restartLsn: number;
  /** When the slot was created, in milliseconds since the Unix epoch. */
  readonly createdAtMs: number;
  /** `null` while the slot is valid; once set it stays set until the slot is dropped. */
  readonly invalidated: SlotInvalidation | null;
}

/** The options every slot function takes. */
export interface SlotOptions {
  /** The file-system seam every file operation goes through. @default createNodeFileSystem() */
  readonly fs?: WalFileSystem;
}

/** Every option `readSlot`, `dropSlot` and `listSlots` reads; any other name is refused (`WAL_INVALID_OPTION`). */
const SLOT_OPTION_NAMES = optionNames<SlotOptions>()("fs");

/** Options of {@link createSlot}. */
export interface CreateSlotOptions extends SlotOptions {
  /**
   * The position the new slot starts at; refused (`WAL_TRUNCATED`) when the log no longer holds what a consumer
   * there needs. Left out, the slot starts at 0 whatever the log retains. @default 0
   */
  readonly confirmedLsn?: number;
  /** Its restart point (between 1 and `confirmedLsn + 1`). @default confirmedLsn + 1 */
  readonly restartLsn?: number;
}

/** Every option `createSlot` reads; any other name is refused (`WAL_INVALID_OPTION`). */
const CREATE_SLOT_OPTION_NAMES = optionNames<CreateSlotOptions>()("fs", "confirmedLsn", "restartLsn");

/** Options of {@link advanceSlot}. */
export interface AdvanceSlotOptions extends SlotOptions {
  /**
   * The restart point of the new position: the `restartLsn` of the transaction whose `commitLsn` is the new
   * `confirmedLsn` (between 1 and `confirmedLsn + 1`). One below the slot's current restart point keeps the current
   * one (both are safe). Without it, `confirmedLsn + 1`: exact unless low-level transactions interleave.
   * @default confirmedLsn + 1
   */
  readonly restartLsn?: number;
}

/** Every option `advanceSlot` reads; any other name is refused (`WAL_INVALID_OPTION`). */
const ADVANCE_SLOT_OPTION_NAMES = optionNames<AdvanceSlotOptions>()("fs", "restartLsn");

/** Options of {@link invalidateSlot}. */
export interface InvalidateSlotOptions extends SlotOptions {
  /** The first LSN the log holds once the segments the slot needed are gone. */
  readonly oldestRetainedLsn: number;
  /** The bytes of log the slot held back. */
  readonly retainedBytes: number;
  /** Why, for messages (at most {@link MAX_SLOT_REASON_BYTES} UTF-8 bytes). */
  readonly reason: string;
}

/** Every option `invalidateSlot` reads; any other name is refused (`WAL_INVALID_OPTION`). */
const INVALIDATE_SLOT_OPTION_NAMES = optionNames<InvalidateSlotOptions>()(
  "fs",
  "oldestRetainedLsn",
  "retainedBytes",
  "reason",
);

// ---- the public operations ------------------------------------------------------------------------------------

/**
 * Create the slot `name` of the log in `dir` at `confirmedLsn`, creating `<dir>/slots/` if needed.
 *
 * @remarks Resolves once the slot file and its directory entry are durable, and the slots directory's entry in
 * `dir` too (fsynced on every create, as a slots directory found there may be one whose entry is not on disk yet). A leftover invalidation marker of an
 * earlier slot of the same name (a drop interrupted by a crash) is removed durably first, so the new slot starts
 * valid.
 *
 * `confirmedLsn` must not lie past the end of the log: the LSN of its newest record as the files hold it now (written
 * by a live writer, synced or not), or the newest segment's base LSN minus one when that is higher. A slot ahead of
 * the log would make its consumer skip the transactions the writer commits up to that LSN. Reading the end costs a
 * look at segment headers and, for an LSN in the newest segment, a read of that segment's records.
 *
 * A position given (`confirmedLsn` or `restartLsn`) must be one the log still serves: a consumer restarting at
 * `restartLsn` must find its records, or at most the one LSN just below the oldest segment missing (the change feed's
 * rule, `canRestartFrom`). Its follower would otherwise fail at once with `WAL_TRUNCATED`, and the slot would hold
 * back every segment until dropped. Without a position the slot starts at 0 and this is not looked at: that is how a
 * consumer makes sure its slot exists before it knows its position. The look happens before anything is written, so
 * a truncation running meanwhile can still remove what the new slot needs (one file deletion wide, see the change
 * feed's documentation); its follower then fails with `WAL_TRUNCATED` as for any position whose records are gone.
 * @throws {@link WalError} `WAL_SLOT_EXISTS` (`details.slot`), `WAL_INVALID_ARGUMENT` (a bad name or LSN, or
 *   `confirmedLsn` past the end of the log: `details.lsn`, `details.slot`; nothing is created), `WAL_TRUNCATED` (a
 *   position given whose records the log no longer holds: `details.oldestRetainedLsn`, `details.lsn` the restart
 *   point minus one, `details.slot`; nothing is created), `WAL_IO` (also when
 *   `dir` does not exist or is not a directory: `details.errno` `ENOENT` or `ENOTDIR`, and nothing is created),
 *   `WAL_BAD_HEADER` (a segment header read to find the end is damaged).
 */
export async function createSlot(dir: string, name: string, given: CreateSlotOptions = {}): Promise<SlotState> {
  assertDir(dir);
  assertSlotName(name);
  const { read: options, fs } = slotOptions(given, CREATE_SLOT_OPTION_NAMES, "createSlot");
  const confirmedLsn = optionOr(options.confirmedLsn, 0);
  assertNonNegative("confirmedLsn", confirmedLsn);
  const restartLsn = optionOr(options.restartLsn, restartAfter(confirmedLsn));
  assertRestart(confirmedLsn, restartLsn);
  // Only a position the caller chose is held to what the log retains: without one the slot starts at 0, which is
  // how a consumer (the archiver) makes sure its slot exists before it knows where it stands.
  const positioned = options.confirmedLsn !== undefined || options.restartLsn !== undefined;
  const paths = slotPaths(dir, name);
  const createDir = await slotsDirMissing(fs, dir, paths.dir);
  try {
    await refusePastEnd(fs, dir, name, confirmedLsn);
    if (positioned) await refuseBehindLog(fs, dir, name, confirmedLsn, restartLsn);
  } catch (error) {
    // An existing slot is named as such whatever else is wrong: its position is not what is wrong. (Looked at here
    // rather than before, so a call makes one stat of the slot file, the one just before the write.)
    if (!createDir) await refuseExisting(fs, dir, name, paths.slot);
    throw error;
  }
  if (createDir) await fs.mkdirp(paths.dir);
  // Also when the slots directory exists: an earlier createSlot killed between its mkdirp and this fsync leaves one
  // whose entry in the log directory is not on disk, and a power loss would take the new slot with it.
  await fs.syncDir(dir);
  await refuseExisting(fs, dir, name, paths.slot);
  if (await unlinkIfExists(fs, paths.marker)) await fs.syncDir(paths.dir);
  const state: SlotState = { name, confirmedLsn, restartLsn, createdAtMs: Date.now(), invalidated: null };
  await writeSlotFile(fs, paths, state);
  return state;
}

/**
 * Read the slot `name` of the log in `dir`.
 * @throws {@link WalError} `WAL_SLOT_NOT_FOUND` (`details.slot`), `WAL_CORRUPT` (the slot file fails its size,
 *   magic or CRC check; `details.path`), `WAL_INVALID_ARGUMENT`, `WAL_IO`.
 */
export async function readSlot(dir: string, name: string, options: SlotOptions = {}): Promise<SlotState> {
  assertDir(dir);
  assertSlotName(name);
  const { fs } = slotOptions(options, SLOT_OPTION_NAMES, "readSlot");
  const paths = slotPaths(dir, name);
  const state = await readSlotState(fs, paths, name);
  if (state === null) throw slotNotFound(dir, name, paths.slot);
  return state;
}

/**
 * Move the slot `name` forward to `confirmedLsn` (the commit LSN of the last transaction its consumer has fully
 * processed). The same position is a no-op that writes nothing.
 *
 * @remarks Resolves once the new position is durable; a crash before that leaves the old position. The creation
 * time is kept. When the slot is invalidated while this call writes, the call rejects with `WAL_SLOT_INVALIDATED`
 * (the position was written, but the slot is invalidated all the same).
 *
 * A move forward must not go past the end of the log (as {@link createSlot} reads it, at the same cost: for an LSN
 * in the newest segment, a read of its records up to it): a token the change feed delivered never does, since its
 * commit record was in the files when it was read (also when only its restart point is gone to truncation, the
 * one-missing-LSN case, as the segments after it start above it). A follower's `confirm` does not look again, so a
 * consumer that moves its slot after every transaction should confirm through a follower opened with the slot
 * (`followDir(dir, { slot })`): calling this function each time reads the newest segment up to the new position on
 * every call: up to a whole segment (8 MiB by default) read per transaction.
 * @returns the slot after the move.
 * @throws {@link WalError} `WAL_SLOT_INVALIDATED` (`details.slot`, `details.oldestRetainedLsn` when the marker
 *   records it), `WAL_SLOT_NOT_FOUND`, `WAL_INVALID_ARGUMENT` (a bad LSN, one below the slot's position, or one past
 *   the end of the log; nothing is written), `WAL_CORRUPT`, `WAL_BAD_HEADER`, `WAL_IO`.
 */
export async function advanceSlot(
  dir: string,
  name: string,
  confirmedLsn: number,
  options: AdvanceSlotOptions = {},
): Promise<SlotState> {
  return await moveSlot(dir, name, confirmedLsn, options, true);
}

/**
 * {@link advanceSlot} for a follower confirming a transaction it delivered (its `confirm` refuses any LSN above what
 * it delivered), without looking for the end of the log: it read that commit record from these files, so it is not
 * past their end, and the look would cost a read of the newest segment's records on every confirm.
 * @internal Not exported from the package.
 */
export async function advanceSlotToDelivered(
  dir: string,
  name: string,
  confirmedLsn: number,
  options: AdvanceSlotOptions,
): Promise<SlotState> {
  return await moveSlot(dir, name, confirmedLsn, options, false);
}

async function moveSlot(
  dir: string,
  name: string,
  confirmedLsn: number,
  given: AdvanceSlotOptions,
  checkEnd: boolean,
): Promise<SlotState> {
  assertDir(dir);
  assertSlotName(name);
  const { read: options, fs } = slotOptions(given, ADVANCE_SLOT_OPTION_NAMES, "advanceSlot");
  assertNonNegative("confirmedLsn", confirmedLsn);
  const restartLsn = optionOr(options.restartLsn, restartAfter(confirmedLsn));
  assertRestart(confirmedLsn, restartLsn);
  const paths = slotPaths(dir, name);
  const current = await readSlotState(fs, paths, name);
  if (current === null) throw slotNotFound(dir, name, paths.slot);
  if (current.invalidated !== null) throw slotInvalidated(name, paths.marker, current.invalidated);
  if (confirmedLsn < current.confirmedLsn) {
    throw new WalError(
      "WAL_INVALID_ARGUMENT",
      `replication slot "${name}" is at LSN ${current.confirmedLsn}; it cannot move back to ${confirmedLsn}`,
      { details: { path: paths.slot, slot: name, lsn: confirmedLsn } },
    );
  }
  // Only a move forward can reach past the end: the slot's own position was checked when it was written.
  if (checkEnd && confirmedLsn > current.confirmedLsn) await refusePastEnd(fs, dir, name, confirmedLsn);
  // A restart point below the slot's is kept at the slot's: both are safe for the new position (a live transaction
  // open there either was open at the slot's position too, so began at or above its restart point, or began after
  // it), and a token computed without knowing which begins were dead may well be lower.
  const restart = Math.max(restartLsn, current.restartLsn);
  if (confirmedLsn === current.confirmedLsn && restart === current.restartLsn) return current;
  const next: SlotState = { ...current, confirmedLsn, restartLsn: restart };
  await writeSlotFile(fs, paths, next);
  // The writer may have invalidated the slot between the check above and the rename: the marker is what counts.
  const invalidated = await readMarker(fs, paths.marker);
  if (invalidated !== null) throw slotInvalidated(name, paths.marker, invalidated);
  return next;
}

/**
 * Remove the slot `name` (its position and its invalidation marker).
 *
 * @remarks The position file goes first and is made durable before the marker is removed, so a crash in between
 * leaves no slot (the orphaned marker is ignored, and {@link createSlot} removes it), never a slot that looks
 * valid again.
 * @throws {@link WalError} `WAL_SLOT_NOT_FOUND`, `WAL_INVALID_ARGUMENT`, `WAL_IO`.
 */
export async function dropSlot(dir: string, name: string, options: SlotOptions = {}): Promise<void> {
  assertDir(dir);
  assertSlotName(name);
  const { fs } = slotOptions(options, SLOT_OPTION_NAMES, "dropSlot");
  const paths = slotPaths(dir, name);
  if (!(await unlinkIfExists(fs, paths.slot))) throw slotNotFound(dir, name, paths.slot);
  await fs.syncDir(paths.dir);
  const removedMarker = await unlinkIfExists(fs, paths.marker);
  // Leftovers of writes a crash interrupted: `<name>.slot.tmp` (earlier versions), `<name>.slot.<random>.tmp` and
  // `<name>.invalidated.<random>.tmp`.
  const leftovers = (await fs.readdir(paths.dir)).filter(
    (n) =>
      (n.startsWith(`${basename(paths.slot)}.`) || n.startsWith(`${basename(paths.marker)}.`)) &&
      n.endsWith(TMP_SUFFIX),
  );
  let removedTmp = false;
  for (const n of leftovers) removedTmp = (await unlinkIfExists(fs, join(paths.dir, n))) || removedTmp;
  if (removedMarker || removedTmp) await fs.syncDir(paths.dir);
}

/**
 * Every slot of the log in `dir`, sorted by name; `[]` when there is no `slots/` directory. Files that are not
 * slot files (`*.tmp`, orphaned markers, foreign names) are ignored.
 * @throws {@link WalError} `WAL_CORRUPT` (a slot file fails its checks), `WAL_INVALID_ARGUMENT`, `WAL_IO`.
 */
export async function listSlots(dir: string, options: SlotOptions = {}): Promise<SlotState[]> {
  assertDir(dir);
  const { fs } = slotOptions(options, SLOT_OPTION_NAMES, "listSlots");
  const slots: SlotState[] = [];
  for (const name of await slotNamesIn(fs, dir)) {
    const state = await readSlotState(fs, slotPaths(dir, name), name);
    if (state !== null) slots.push(state); // null: dropped since readdir
  }
  return slots;
}

/**
 * The names of the slots of the log in `dir`, as {@link listSlots} finds them (the `<name>.slot` files of `slots/`
 * with a valid name), sorted by name, without reading the files: a listing that goes on past a damaged slot file
 * reads each with {@link readSlot}. `[]` when there is no `slots/` directory.
 * @throws {@link WalError} `WAL_INVALID_ARGUMENT`, `WAL_IO`.
 */
export async function listSlotNames(dir: string, options: SlotOptions = {}): Promise<string[]> {
  assertDir(dir);
  return await slotNamesIn(slotOptions(options, SLOT_OPTION_NAMES, "listSlotNames").fs, dir);
}

async function slotNamesIn(fs: WalFileSystem, dir: string): Promise<string[]> {
  const slotsDir = join(dir, SLOTS_DIR_NAME);
  const stat = await fs.stat(slotsDir);
  if (stat === null || !stat.isDirectory) return [];
  const names: string[] = [];
  for (const entry of await fs.readdir(slotsDir)) {
    if (!entry.endsWith(SLOT_SUFFIX)) continue;
    const name = entry.slice(0, -SLOT_SUFFIX.length);
    if (SLOT_NAME.test(name)) names.push(name);
  }
  return names.sort(compareNames);
}

/**
 * Invalidate the slot `name`: create its marker, so it is invalidated for good (until dropped). Idempotent: an
 * existing marker is left as it is, with the details it has.
 *
 * @remarks Resolves once the marker and its directory entry are durable. Call it before deleting the segments the
 * slot needs, so a crash in between cannot leave a valid slot whose records are gone. Two calls racing on one slot
 * invalidate it once: both resolve with the details of the marker that took the name first, read whole (with a seam
 * that has `link`; see the module comment).
 * @returns the slot, invalidated.
 * @throws {@link WalError} `WAL_SLOT_NOT_FOUND`, `WAL_INVALID_ARGUMENT` (bad name, LSN, byte count or reason),
 *   `WAL_CORRUPT`, `WAL_IO`.
 */
export async function invalidateSlot(dir: string, name: string, given: InvalidateSlotOptions): Promise<SlotState> {
  assertDir(dir);
  assertSlotName(name);
  if (typeof given !== "object" || given === null) {
    throw new WalError("WAL_INVALID_ARGUMENT", "invalidateSlot needs an options object");
  }
  const { read: options, fs } = slotOptions(given, INVALIDATE_SLOT_OPTION_NAMES, "invalidateSlot");
  const { oldestRetainedLsn, retainedBytes, reason } = options;
  assertNonNegative("oldestRetainedLsn", oldestRetainedLsn);
  assertNonNegative("retainedBytes", retainedBytes);
  const body = encodeMarker(oldestRetainedLsn, retainedBytes, reason);
  const paths = slotPaths(dir, name);
  const current = await readSlotState(fs, paths, name);
  if (current === null) throw slotNotFound(dir, name, paths.slot);
  if (current.invalidated !== null) {
    // The marker may be another caller's whose entry is not durable yet (it has linked and not fsynced slots/):
    // resolving "invalidated" must mean a crash keeps it. A rare path (a slot invalidated again), one fsync.
    await fs.syncDir(paths.dir);
    return current;
  }
  let placed = await placeMarker(fs, paths, body);
  // "gone": the temp vanished before its link, which dropSlot does to a marker temp. A slot dropped meanwhile is
  // not found, as it would have been a moment earlier; one created again under the name is invalidated afresh
  // (a drop and create each time is a caller's loop: a few tries, counted, then the slot is reported not found).
  for (let tries = 1; placed === "gone"; tries++) {
    if (tries >= MARKER_PLACE_TRIES || (await readSlotState(fs, paths, name)) === null) {
      throw slotNotFound(dir, name, paths.slot);
    }
    placed = await placeMarker(fs, paths, body);
  }
  // Also when another caller's marker took the name: this call resolves once that entry is durable too.
  await fs.syncDir(paths.dir);
  // Invalidated concurrently: the first marker stands, and was whole when it took the name (unless it was placed
  // the old way, by a seam without link, and is still being written).
  if (!placed) return await readSlot(dir, name, { fs });
  return { ...current, invalidated: { oldestRetainedLsn, retainedBytes, reason } };
}

/** How many times {@link invalidateSlot} writes a marker whose temp a `dropSlot` removed before it was linked. */
const MARKER_PLACE_TRIES = 3;

/** What a file system answers `link` with when it has no hard links (vfat, some network file systems). */
const LINK_UNSUPPORTED: ReadonlySet<string> = new Set(["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS"]);

/**
 * Put the marker in place with `body`, its entry not yet fsynced; false when another caller's marker took the name
 * first (EEXIST), "gone" when the temp was removed before its link (ENOENT: a racing dropSlot). The body is written and fsynced under `<name>.invalidated.<random>.tmp`, then linked to the
 * marker's name, which therefore never shows a partial body to a caller racing this one; the temp name is removed
 * after. Without a `link` in the seam (or on a file system refusing hard links), the marker is created exclusively
 * and written in place, as before: a caller racing that one may read it unwritten ("details unreadable").
 */
async function placeMarker(fs: WalFileSystem, paths: SlotPaths, body: Uint8Array): Promise<boolean | "gone"> {
  if (fs.link !== undefined) {
    const tmp = `${paths.marker}.${randomBytes(6).toString("hex")}${TMP_SUFFIX}`;
    const file = await fs.open(tmp, "createExclusive");
    let linked: boolean | "unsupported" | "gone";
    try {
      await writeAndSync(file, body);
      linked = await fs.link(tmp, paths.marker).then(
        () => true,
        (e: unknown) => {
          const errno = errnoOf(e);
          if (errno === "EEXIST") return false;
          // The temp is gone (a dropSlot racing this call removed it as a leftover): nothing was placed.
          if (errno === "ENOENT") return "gone" as const;
          if (errno !== undefined && LINK_UNSUPPORTED.has(errno)) return "unsupported" as const;
          throw e;
        },
      );
    } finally {
      // A crash before this leaves the temp file, which readers ignore and dropSlot removes.
      await fs.unlink(tmp).catch(() => undefined);
    }
    if (linked !== "unsupported") return linked;
  }
  let file: WalFile;
  try {
    file = await fs.open(paths.marker, "createExclusive");
  } catch (e) {
    if (errnoOf(e) !== "EEXIST") throw e;
    return false;
  }
  await writeAndSync(file, body);
  return true;
}

// ---- files ----------------------------------------------------------------------------------------------------

interface SlotPaths {
  readonly dir: string;
  readonly slot: string;
  readonly marker: string;
}

function slotPaths(dir: string, name: string): SlotPaths {
  const slotsDir = join(dir, SLOTS_DIR_NAME);
  const slot = join(slotsDir, `${name}${SLOT_SUFFIX}`);
  return { dir: slotsDir, slot, marker: join(slotsDir, `${name}${MARKER_SUFFIX}`) };
}

/**
 * A slot function's `options`, checked (an object naming only `known` options) and each read once, with their file
 * system: the function uses what this returns, never `options` again.
 */
function slotOptions<T extends SlotOptions>(
  options: T,
  known: readonly string[],
  where: string,
): { readonly read: T; readonly fs: WalFileSystem } {
  const read = checkOptionNames(options, known, where);
  return { read, fs: fileSystemOption(read.fs, where) };
}

/**
 * Whether `slots/` is missing (the caller creates it, once every check has passed, and makes its entry in the log
 * directory durable). The log directory itself must exist: creating it would turn a mistyped path into a new, empty
 * log whose slot holds back nothing of the real one (and on which a follower then waits instead of failing, as it
 * does on a missing directory).
 */
async function slotsDirMissing(fs: WalFileSystem, dir: string, slotsDir: string): Promise<boolean> {
  const stat = await fs.stat(slotsDir);
  if (stat?.isDirectory === true) return false;
  await checkLogDir(fs, dir, "a slot is created in an existing log; nothing was created");
  return true;
}

/** Throws `WAL_SLOT_EXISTS` when the slot's position file exists. */
async function refuseExisting(fs: WalFileSystem, dir: string, name: string, slotPath: string): Promise<void> {
  if ((await fs.stat(slotPath)) === null) return;
  throw new WalError("WAL_SLOT_EXISTS", `replication slot "${name}" already exists in ${dir}`, {
    details: { path: slotPath, slot: name },
  });
}

/**
 * Throws `WAL_INVALID_ARGUMENT` when `lsn` lies past the end of the log in `dir`: a consumer resuming from a slot
 * there would skip every transaction the writer commits up to it.
 */
async function refusePastEnd(fs: WalFileSystem, dir: string, name: string, lsn: number): Promise<void> {
  const end = await logEndBelow(fs, dir, lsn);
  if (end === null) return;
  throw new WalError(
    "WAL_INVALID_ARGUMENT",
    `replication slot "${name}" cannot be at LSN ${lsn}: the log in ${dir} ends at LSN ${end}, and a consumer there would skip what the writer commits up to LSN ${lsn}; use an LSN the log holds (a delivered transaction's commit LSN, or a snapshot's once a record follows it, such as its checkpoint marker); nothing was written`,
    { details: { path: dir, slot: name, lsn } },
  );
}

/**
 * Throws `WAL_TRUNCATED` when a consumer restarting at `restartLsn` could not read the log in `dir`: two or more of
 * the LSNs it needs are gone to truncation (the one just below the oldest segment is let through, as the change feed
 * does: see `canRestartFrom`). Its follower would fail at once, and the slot would hold back every segment.
 */
async function refuseBehindLog(
  fs: WalFileSystem,
  dir: string,
  name: string,
  confirmedLsn: number,
  restartLsn: number,
): Promise<void> {
  const oldest = await oldestRetainedLsn(dir, { fs });
  if (oldest === null || canRestartFrom(restartLsn, oldest)) return;
  const needs =
    restartLsn === restartAfter(confirmedLsn)
      ? `the records after LSN ${confirmedLsn}`
      : `the records from LSN ${restartLsn} (the restart point of the token at LSN ${confirmedLsn}, where a transaction it must still deliver began)`;
  throw new WalError(
    "WAL_TRUNCATED",
    `replication slot "${name}" cannot be at LSN ${confirmedLsn}: the log in ${dir} no longer holds ${needs}: it starts at LSN ${oldest}; create the slot at LSN ${oldest - 1} or above (the LSN of a snapshot taken there or later); nothing was created`,
    { details: { path: dir, slot: name, lsn: restartLsn - 1, oldestRetainedLsn: oldest } },
  );
}

/** The slot's position file and marker, or `null` when the position file does not exist. */
async function readSlotState(fs: WalFileSystem, paths: SlotPaths, name: string): Promise<SlotState | null> {
  const bytes = await readWholeFile(fs, paths.slot, SLOT_FILE_BYTES);
  if (bytes === null) return null;
  const { confirmedLsn, restartLsn, createdAtMs } = decodeSlotFile(bytes, paths.slot);
  return { name, confirmedLsn, restartLsn, createdAtMs, invalidated: await readMarker(fs, paths.marker) };
}

async function readMarker(fs: WalFileSystem, path: string): Promise<SlotInvalidation | null> {
  const bytes = await readWholeFile(fs, path, MARKER_MAX_BYTES);
  if (bytes === null) return null;
  return (
    decodeMarker(bytes) ?? {
      oldestRetainedLsn: null,
      retainedBytes: null,
      reason: `the invalidation marker ${path} exists but its details are unreadable (cut short by a crash?)`,
    }
  );
}

/**
 * The file's bytes, or `null` when it does not exist. Reads at most `limit + 1` bytes: enough for the decoders to
 * see that a file is longer than its format allows without reading a huge file.
 */
async function readWholeFile(fs: WalFileSystem, path: string, limit: number): Promise<Uint8Array | null> {
  let file: WalFile;
  try {
    file = await fs.open(path, "read");
  } catch (e) {
    if (errnoOf(e) === "ENOENT") return null;
    throw e;
  }
  try {
    const size = Math.min(await file.size(), limit + 1);
    const bytes = new Uint8Array(size);
    let filled = 0;
    while (filled < size) {
      const n = await file.read(bytes, filled, size - filled, filled);
      if (n === 0) break;
      filled += n;
    }
    return bytes.subarray(0, filled);
  } finally {
    await file.close();
  }
}

/** Replace the position file crash-safely: temp file, fsync, rename, fsync of `slots/`. */
async function writeSlotFile(fs: WalFileSystem, paths: SlotPaths, state: SlotState): Promise<void> {
  const bytes = encodeSlotFile(state.confirmedLsn, state.restartLsn, state.createdAtMs);
  // A name of its own per write: two writers of one slot (a misuse, but one that happens) must never write into or
  // rename each other's file, which would install one's position while reporting the other's as stored. Random, not
  // pid-based: a crash's leftover must not block a later process that gets the same pid (a container's pid 1).
  const tmp = `${paths.slot}.${randomBytes(6).toString("hex")}${TMP_SUFFIX}`;
  const file = await fs.open(tmp, "createExclusive");
  try {
    await writeAndSync(file, bytes);
    await fs.rename(tmp, paths.slot);
  } catch (e) {
    await fs.unlink(tmp).catch(() => undefined);
    throw e;
  }
  await fs.syncDir(paths.dir);
}

/** Write `bytes` at offset 0, fsync and close `file`; on failure close it without hiding the first error. */
async function writeAndSync(file: WalFile, bytes: Uint8Array): Promise<void> {
  try {
    await file.write(bytes, 0);
    await file.sync();
  } catch (e) {
    await file.close().catch(() => undefined);
    throw e;
  }
  await file.close();
}

/** Remove `path`; resolves false when it did not exist. */
async function unlinkIfExists(fs: WalFileSystem, path: string): Promise<boolean> {
  try {
    await fs.unlink(path);
    return true;
  } catch (e) {
    if (errnoOf(e) === "ENOENT") return false;
    throw e;
  }
}

// ---- encoding -------------------------------------------------------------------------------------------------

function encodeSlotFile(confirmedLsn: number, restartLsn: number, createdAtMs: number): Uint8Array {
  const bytes = new Uint8Array(SLOT_FILE_BYTES);
  const view = new DataView(bytes.buffer);
  bytes.set(SLOT_FILE_MAGIC, 0);
  setU64(view, 8, confirmedLsn);
  setU64(view, 16, restartLsn);
  setU64(view, 24, createdAtMs);
  view.setUint32(32, crc32(bytes.subarray(0, 32)), true);
  return bytes;
}

interface SlotFile {
  readonly confirmedLsn: number;
  readonly restartLsn: number;
  readonly createdAtMs: number;
}

function decodeSlotFile(bytes: Uint8Array, path: string): SlotFile {
  const corrupt = (why: string): WalError =>
    new WalError("WAL_CORRUPT", `replication slot file ${path} is corrupt: ${why}`, { details: { path } });
  const v1 = startsWith(bytes, SLOT_FILE_MAGIC_V1);
  if (!v1 && !startsWith(bytes, SLOT_FILE_MAGIC)) {
    if (bytes.byteLength < SLOT_FILE_BYTES_V1) throw corrupt(`fewer than ${SLOT_FILE_BYTES_V1} bytes`);
    // The name right, the version byte not one of ours: most likely a newer release wrote it (a downgrade).
    const version = bytes[SLOT_FILE_MAGIC.byteLength - 1] as number;
    if (startsWith(bytes, SLOT_FILE_MAGIC.subarray(0, -1)) && version > 2) {
      throw corrupt(`format version ${version}, newer than the versions this @lora/wal reads (1, 2)`);
    }
    throw corrupt("bad magic");
  }
  const size = v1 ? SLOT_FILE_BYTES_V1 : SLOT_FILE_BYTES;
  if (bytes.byteLength !== size) throw corrupt(`${bytes.byteLength > size ? "more" : "fewer"} than ${size} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(size - 4, true) !== crc32(bytes.subarray(0, size - 4))) throw corrupt("CRC mismatch");
  const confirmedLsn = getU64(view, 8);
  const restartLsn = v1 ? (confirmedLsn === null ? null : restartAfter(confirmedLsn)) : getU64(view, 16);
  const createdAtMs = getU64(view, v1 ? 16 : 24);
  if (confirmedLsn === null || restartLsn === null || createdAtMs === null) {
    throw corrupt("a field is above 2^53 - 1");
  }
  if (!isRestartFor(confirmedLsn, restartLsn)) {
    throw corrupt(`restartLsn ${restartLsn} is not between 1 and confirmedLsn + 1 (${confirmedLsn + 1})`);
  }
  return { confirmedLsn, restartLsn, createdAtMs };
}

function encodeMarker(oldestRetainedLsn: number, retainedBytes: number, reason: string): Uint8Array {
  if (typeof reason !== "string" || !(reason as string & { isWellFormed(): boolean }).isWellFormed()) {
    throw new WalError("WAL_INVALID_ARGUMENT", "the invalidation reason must be a well-formed string");
  }
  const text = utf8Encoder.encode(reason);
  if (text.byteLength > MAX_SLOT_REASON_BYTES) {
    throw new WalError(
      "WAL_INVALID_ARGUMENT",
      `the invalidation reason is ${text.byteLength} UTF-8 bytes; at most ${MAX_SLOT_REASON_BYTES} are allowed`,
    );
  }
  const bytes = new Uint8Array(MARKER_HEADER_BYTES + text.byteLength + 4);
  const view = new DataView(bytes.buffer);
  bytes.set(SLOT_MARKER_MAGIC, 0);
  setU64(view, 8, oldestRetainedLsn);
  setU64(view, 16, retainedBytes);
  view.setUint32(24, text.byteLength, true);
  bytes.set(text, MARKER_HEADER_BYTES);
  const end = MARKER_HEADER_BYTES + text.byteLength;
  view.setUint32(end, crc32(bytes.subarray(0, end)), true);
  return bytes;
}

/** The marker's details, or `null` when its body does not check out. */
function decodeMarker(bytes: Uint8Array): SlotInvalidation | null {
  if (bytes.byteLength < MARKER_HEADER_BYTES + 4 || !startsWith(bytes, SLOT_MARKER_MAGIC)) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getUint32(24, true);
  const end = MARKER_HEADER_BYTES + n;
  if (n > MAX_SLOT_REASON_BYTES || bytes.byteLength !== end + 4) return null;
  if (view.getUint32(end, true) !== crc32(bytes.subarray(0, end))) return null;
  const oldestRetainedLsn = getU64(view, 8);
  const retainedBytes = getU64(view, 16);
  if (oldestRetainedLsn === null || retainedBytes === null) return null;
  let reason: string;
  try {
    reason = utf8Decoder.decode(bytes.subarray(MARKER_HEADER_BYTES, end));
  } catch {
    return null;
  }
  return { oldestRetainedLsn, retainedBytes, reason };
}

function setU64(view: DataView, offset: number, value: number): void {
  view.setUint32(offset, value % TWO_POW_32, true);
  view.setUint32(offset + 4, Math.floor(value / TWO_POW_32), true);
}

/** A u64 as a number, or `null` when it is above `Number.MAX_SAFE_INTEGER`. */
function getU64(view: DataView, offset: number): number | null {
  const high = view.getUint32(offset + 4, true);
  if (high > MAX_SAFE_HIGH_WORD) return null;
  return high * TWO_POW_32 + view.getUint32(offset, true);
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (bytes.byteLength < prefix.byteLength) return false;
  for (let i = 0; i < prefix.byteLength; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}

// ---- arguments and errors -------------------------------------------------------------------------------------

function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function assertDir(dir: unknown): asserts dir is string {
  checkPath(dir);
}

/**
 * Whether `name` is a replication slot name: 1 to 64 ASCII letters, digits, `_` or `-` (a file name on every
 * platform, never a path). The slot calls refuse any other name; a layer that takes a slot name as an option checks
 * it with this rule before it starts.
 */
export function isSlotName(name: unknown): name is string {
  return typeof name === "string" && SLOT_NAME.test(name);
}

/** Throws `WAL_INVALID_ARGUMENT` unless `name` is a slot name ({@link isSlotName}). */
function assertSlotName(name: unknown): asserts name is string {
  if (!isSlotName(name)) {
    const shown = typeof name === "string" ? JSON.stringify(name.slice(0, 80)) : typeof name;
    throw new WalError(
      "WAL_INVALID_ARGUMENT",
      `a replication slot name is 1 to 64 letters, digits, "_" or "-"; got ${shown}`,
    );
  }
}

/** Throws `WAL_INVALID_ARGUMENT` unless `restartLsn` can go with `confirmedLsn` in a token. */
function assertRestart(confirmedLsn: number, restartLsn: unknown): asserts restartLsn is number {
  assertNonNegative("restartLsn", restartLsn);
  if (!isRestartFor(confirmedLsn, restartLsn)) {
    throw new WalError(
      "WAL_INVALID_ARGUMENT",
      `restartLsn must lie between 1 and confirmedLsn + 1 (${confirmedLsn + 1}), got ${restartLsn}`,
      { details: { lsn: restartLsn } },
    );
  }
}

/** Throws `WAL_INVALID_ARGUMENT` unless `n` is a non-negative safe integer (an LSN or a byte count). */
function assertNonNegative(what: string, n: unknown): asserts n is number {
  if (!Number.isSafeInteger(n) || (n as number) < 0) {
    const shown = typeof n === "number" || n === null ? String(n) : typeof n;
    throw new WalError("WAL_INVALID_ARGUMENT", `${what} must be a non-negative safe integer, got ${shown}`);
  }
}

function slotNotFound(dir: string, name: string, path: string): WalError {
  return new WalError("WAL_SLOT_NOT_FOUND", `no replication slot "${name}" in ${dir}`, {
    details: { path, slot: name },
  });
}

function slotInvalidated(name: string, markerPath: string, invalidated: SlotInvalidation): WalError {
  const where =
    invalidated.oldestRetainedLsn === null ? "" : ` (the log now starts at LSN ${invalidated.oldestRetainedLsn})`;
  return new WalError(
    "WAL_SLOT_INVALIDATED",
    `replication slot "${name}" was invalidated${where}: ${invalidated.reason}; start again from a snapshot`,
    {
      details: {
        path: markerPath,
        slot: name,
        ...(invalidated.oldestRetainedLsn === null ? {} : { oldestRetainedLsn: invalidated.oldestRetainedLsn }),
      },
    },
  );
}
