/**
 * Replication slots: the round trip on a real directory, every error code, the forward-only advance, the sticky
 * invalidation marker against a concurrent advance, corrupt files, and crash images of SimFS taken after every
 * file operation of each slot function.
 */

import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { makeTempDir, settlesWithinTurns } from "@lora/test-utils";
import { crc32, isWalError, type WalErrorCode } from "@lora/wal-codec";
import { encodeSegmentHeader, segmentFileName, type WalFileSystem } from "@lora/wal-segment";
import { SimFS, type SimOperationEvent, wrapFileSystem } from "@lora/wal-segment/testing";
import { afterEach, describe, expect, it } from "vitest";
import {
  advanceSlot,
  createSlot,
  dropSlot,
  invalidateSlot,
  isSlotName,
  listSlotNames,
  listSlots,
  readSlot,
  SLOT_FILE_BYTES,
  SLOT_FILE_MAGIC,
  type SlotState,
} from "./replication-slots.js";

const DIR = "/log";
const SLOTS = "/log/slots";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/**
 * The end of the logs these tests use: the highest LSN a record can have (2^53 - 2). A slot's position must lie
 * neither past the end of its log nor below what it retains, so each log directory holds two segments with no record:
 * the oldest starts at LSN 1 (nothing truncated), the newest at the LSN above the end.
 */
const LOG_END = 2 ** 53 - 2;
/** Those segments' file names, and their bytes. */
const SEGMENTS: readonly (readonly [string, Uint8Array])[] = [
  [segmentFileName(1), encodeSegmentHeader({ baseLsn: 1, sealed: true })],
  [segmentFileName(2), encodeSegmentHeader({ baseLsn: LOG_END + 1, sealed: false })],
];

/** A real log directory, with the segments that put its start at 1 and its end at {@link LOG_END}. */
async function tempDir(): Promise<string> {
  const dir = await emptyTempDir();
  for (const [name, bytes] of SEGMENTS) await writeFile(join(dir, name), bytes);
  return dir;
}

async function emptyTempDir(): Promise<string> {
  const dir = await makeTempDir("lora-wal-slots");
  cleanups.push(dir.cleanup);
  return dir.path;
}

/** A SimFS holding a durable log directory whose end is {@link LOG_END}. */
function sim(): SimFS {
  const fs = new SimFS();
  fs.mkdirpSync(DIR);
  for (const [name, bytes] of SEGMENTS) fs.writeFileSync(`${DIR}/${name}`, bytes);
  return fs;
}

/** What the race against a held call answers when the call settled first: it never reached the hold. */
const neverHeld = (): false => false;

/** The error `promise` rejects with; fails the test when it resolves. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  throw new Error("expected a rejection");
}

async function expectCode(promise: Promise<unknown>, code: WalErrorCode): Promise<Record<string, unknown>> {
  const e = await rejection(promise);
  if (!isWalError(e)) throw e;
  expect(e.code).toBe(code);
  return e.details as Record<string, unknown>;
}

/** A valid (version 2) slot file with an arbitrary confirmed LSN (as two u32 halves), restart 1, and a correct CRC. */
function slotFileBytes(lowLsn: number, highLsn: number, magic: Uint8Array = SLOT_FILE_MAGIC): Uint8Array {
  const bytes = new Uint8Array(SLOT_FILE_BYTES);
  const view = new DataView(bytes.buffer);
  bytes.set(magic, 0);
  view.setUint32(8, lowLsn, true);
  view.setUint32(12, highLsn, true);
  view.setUint32(16, 1, true);
  view.setUint32(24, 1234, true);
  view.setUint32(32, crc32(bytes.subarray(0, 32)), true);
  return bytes;
}

/** A version 1 slot file (28 bytes, no restart LSN), as earlier releases wrote. */
function slotFileV1(confirmedLsn: number, createdAtMs: number): Uint8Array {
  const bytes = new Uint8Array(28);
  const view = new DataView(bytes.buffer);
  bytes.set([0x4c, 0x57, 0x53, 0x4c, 0x4f, 0x54, 0x00, 0x01], 0);
  view.setUint32(8, confirmedLsn, true);
  view.setUint32(16, createdAtMs, true);
  view.setUint32(24, crc32(bytes.subarray(0, 24)), true);
  return bytes;
}

describe("on a real directory (the Node seam by default)", () => {
  it("creates, reads, lists, advances and drops a slot", async () => {
    const dir = await tempDir();
    const before = Date.now();
    const created = await createSlot(dir, "reader-1", { confirmedLsn: 7 });
    const after = Date.now();
    expect(created).toEqual({
      name: "reader-1",
      confirmedLsn: 7,
      restartLsn: 8,
      createdAtMs: created.createdAtMs,
      invalidated: null,
    });
    expect(created.createdAtMs).toBeGreaterThanOrEqual(before);
    expect(created.createdAtMs).toBeLessThanOrEqual(after);
    expect(await readSlot(dir, "reader-1")).toEqual(created);

    const file = await readFile(join(dir, "slots", "reader-1.slot"));
    expect(file.byteLength).toBe(SLOT_FILE_BYTES);
    expect([...file.subarray(0, 8)]).toEqual([...SLOT_FILE_MAGIC]);
    expect(new DataView(file.buffer, file.byteOffset).getUint32(8, true)).toBe(7);

    const moved = { ...created, confirmedLsn: 2 ** 40 + 5, restartLsn: 2 ** 40 + 6 };
    expect(await advanceSlot(dir, "reader-1", 2 ** 40 + 5)).toEqual(moved);
    expect(await readSlot(dir, "reader-1")).toEqual(moved);
    expect(await listSlots(dir)).toEqual([moved]);
    expect((await readdir(join(dir, "slots"))).sort()).toEqual(["reader-1.slot"]);

    await dropSlot(dir, "reader-1");
    expect(await readdir(join(dir, "slots"))).toEqual([]);
    expect(await listSlots(dir)).toEqual([]);
    await expectCode(readSlot(dir, "reader-1"), "WAL_SLOT_NOT_FOUND");
  });

  it("starts a slot at LSN 0 by default and keeps the largest LSN a log can reach", async () => {
    const dir = await tempDir();
    expect((await createSlot(dir, "a")).confirmedLsn).toBe(0);
    await advanceSlot(dir, "a", LOG_END);
    expect((await readSlot(dir, "a")).confirmedLsn).toBe(LOG_END);
    // One more is past the end of every log; the largest safe integer still reads back (see "corrupt slot files").
    await expectCode(advanceSlot(dir, "a", LOG_END + 1), "WAL_INVALID_ARGUMENT");
  });

  it("lists nothing without a slots folder, and lists slots sorted by name, ignoring other files", async () => {
    const dir = await tempDir();
    expect(await listSlots(dir)).toEqual([]);
    for (const name of ["b", "A", "a_2", "a-1", "Z9"]) await createSlot(dir, name, { confirmedLsn: name.length });
    await writeFile(join(dir, "slots", "a.slot.tmp"), "half-written");
    await writeFile(join(dir, "slots", "orphan.invalidated"), "");
    await writeFile(join(dir, "slots", "not a name.slot"), "x");
    await writeFile(join(dir, "slots", "README"), "x");
    expect((await listSlots(dir)).map((s) => s.name)).toEqual(["A", "Z9", "a-1", "a_2", "b"]);
    // listSlotNames finds the same names without reading the files: a damaged one is still named.
    await writeFile(join(dir, "slots", "b.slot"), "damaged");
    await expectCode(listSlots(dir), "WAL_CORRUPT");
    expect(await listSlotNames(dir)).toEqual(["A", "Z9", "a-1", "a_2", "b"]);
    expect(await listSlotNames(join(dir, "no-such-log"))).toEqual([]);
  });

  it("lists a slot dropped between reading slots/ and reading its file as gone, not as an error", async () => {
    const fs = sim();
    for (const name of ["a", "b", "c"]) await createSlot(DIR, name, { fs });
    // Another process drops "b" just after listSlots has read the folder.
    const racing = wrapFileSystem(fs, (file) => file, {
      readdir: async (path: string) => {
        const names = await fs.readdir(path);
        await dropSlot(DIR, "b", { fs });
        return names;
      },
    });
    expect((await listSlots(DIR, { fs: racing })).map((s) => s.name)).toEqual(["a", "c"]);
  });

  it("refuses a second slot of the same name with WAL_SLOT_EXISTS, leaving the first alone", async () => {
    const dir = await tempDir();
    const first = await createSlot(dir, "dup", { confirmedLsn: 3 });
    const details = await expectCode(createSlot(dir, "dup", { confirmedLsn: 9 }), "WAL_SLOT_EXISTS");
    expect(details.slot).toBe("dup");
    expect(await readSlot(dir, "dup")).toEqual(first);
  });

  it("refuses a log directory that does not exist (or is a file) with WAL_IO and creates nothing", async () => {
    // A mistyped path used to be created whole, `slots/` and all: a slot that protects nothing of the real log,
    // and a directory on which a follower then waits instead of failing.
    const root = await emptyTempDir();
    const missing = join(root, "typo", "wal");
    expect((await expectCode(createSlot(missing, "s"), "WAL_IO")).errno).toBe("ENOENT");
    const file = join(root, "file");
    await writeFile(file, "not a log");
    expect((await expectCode(createSlot(file, "s"), "WAL_IO")).errno).toBe("ENOTDIR");
    expect(await readdir(root)).toEqual(["file"]);
  });

  it("keeps an invalidation reason's leading U+FEFF", async () => {
    const dir = await tempDir();
    await createSlot(dir, "s");
    await invalidateSlot(dir, "s", { oldestRetainedLsn: 1, retainedBytes: 1, reason: "\uFEFFfull" });
    expect((await readSlot(dir, "s")).invalidated?.reason).toBe("\uFEFFfull");
  });

  it("reports WAL_SLOT_NOT_FOUND from read, advance, drop and invalidate", async () => {
    const dir = await tempDir();
    await createSlot(dir, "other");
    const inv = { oldestRetainedLsn: 1, retainedBytes: 1, reason: "r" };
    // One call at a time: calls started together would reject while the first is awaited (unhandled rejections).
    for (const call of [
      () => readSlot(dir, "ghost"),
      () => advanceSlot(dir, "ghost", 1),
      () => dropSlot(dir, "ghost"),
      () => invalidateSlot(dir, "ghost", inv),
    ]) {
      expect((await expectCode(call(), "WAL_SLOT_NOT_FOUND")).slot).toBe("ghost");
    }
    // Without a slots folder at all, too.
    const empty = await emptyTempDir();
    await expectCode(readSlot(empty, "ghost"), "WAL_SLOT_NOT_FOUND");
    await expectCode(dropSlot(empty, "ghost"), "WAL_SLOT_NOT_FOUND");
  });

  it("refuses bad names with WAL_INVALID_ARGUMENT and writes nothing", async () => {
    const dir = await tempDir();
    const bad: unknown[] = ["", "x".repeat(65), "a/b", "a.b", "..", "a b", "é", "a\0", 5, null, undefined];
    for (const name of bad) {
      expect(isSlotName(name), String(name)).toBe(false);
      await expectCode(createSlot(dir, name as string), "WAL_INVALID_ARGUMENT");
      await expectCode(readSlot(dir, name as string), "WAL_INVALID_ARGUMENT");
      await expectCode(advanceSlot(dir, name as string, 1), "WAL_INVALID_ARGUMENT");
      await expectCode(dropSlot(dir, name as string), "WAL_INVALID_ARGUMENT");
    }
    expect((await readdir(dir)).sort()).toEqual(SEGMENTS.map(([name]) => name));
    expect((await createSlot(dir, "x".repeat(64))).name).toBe("x".repeat(64));
    for (const good of ["x".repeat(64), "a", "A-z_09"]) expect(isSlotName(good), good).toBe(true);
  });

  it("refuses LSNs that are not non-negative safe integers with WAL_INVALID_ARGUMENT", async () => {
    const dir = await tempDir();
    await createSlot(dir, "s", { confirmedLsn: 1 });
    for (const lsn of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, "3", 3n]) {
      await expectCode(createSlot(dir, "t", { confirmedLsn: lsn as number }), "WAL_INVALID_ARGUMENT");
      await expectCode(advanceSlot(dir, "s", lsn as number), "WAL_INVALID_ARGUMENT");
      const inv = { oldestRetainedLsn: lsn as number, retainedBytes: 0, reason: "r" };
      await expectCode(invalidateSlot(dir, "s", inv), "WAL_INVALID_ARGUMENT");
    }
    await expectCode(
      invalidateSlot(dir, "s", { oldestRetainedLsn: 0, retainedBytes: -1, reason: "r" }),
      "WAL_INVALID_ARGUMENT",
    );
    expect(await listSlots(dir)).toEqual([expect.objectContaining({ name: "s", confirmedLsn: 1, invalidated: null })]);
  });
});

describe("advanceSlot", () => {
  it("keeps an exact token: a restart point below the commit LSN, which never moves back", async () => {
    const fs = sim();
    const created = await createSlot(DIR, "s", { confirmedLsn: 5, restartLsn: 3, fs });
    expect(created).toMatchObject({ confirmedLsn: 5, restartLsn: 3 });
    expect(await advanceSlot(DIR, "s", 9, { fs, restartLsn: 4 })).toMatchObject({ confirmedLsn: 9, restartLsn: 4 });
    // A lower restart point (a token that could not tell a dead transaction from a live one) keeps the slot's.
    expect(await advanceSlot(DIR, "s", 12, { fs, restartLsn: 2 })).toMatchObject({ confirmedLsn: 12, restartLsn: 4 });
    await expectCode(advanceSlot(DIR, "s", 12, { fs, restartLsn: 14 }), "WAL_INVALID_ARGUMENT");
    await expectCode(advanceSlot(DIR, "s", 12, { fs, restartLsn: 0 }), "WAL_INVALID_ARGUMENT");
    await expectCode(createSlot(DIR, "t", { confirmedLsn: 5, restartLsn: 7, fs }), "WAL_INVALID_ARGUMENT");
    // Nothing was written by the refused calls.
    expect(await readSlot(DIR, "s", { fs })).toMatchObject({ confirmedLsn: 12, restartLsn: 4 });
    // The same position with a higher restart point is a move.
    expect(await advanceSlot(DIR, "s", 12, { fs, restartLsn: 13 })).toMatchObject({ confirmedLsn: 12, restartLsn: 13 });
  });

  it("moves forward only: a lower LSN is refused and changes nothing, the same LSN writes nothing", async () => {
    const fs = sim();
    const created = await createSlot(DIR, "s", { confirmedLsn: 5, fs });
    await advanceSlot(DIR, "s", 9, { fs });
    const details = await expectCode(advanceSlot(DIR, "s", 8, { fs }), "WAL_INVALID_ARGUMENT");
    expect(details.slot).toBe("s");
    expect(await readSlot(DIR, "s", { fs })).toEqual({ ...created, confirmedLsn: 9, restartLsn: 10 });

    const writes = fs.stats.writes;
    const renames = fs.stats.renames;
    expect(await advanceSlot(DIR, "s", 9, { fs })).toEqual({ ...created, confirmedLsn: 9, restartLsn: 10 });
    expect(fs.stats.writes).toBe(writes);
    expect(fs.stats.renames).toBe(renames);
  });

  it("writes a temp file, fsyncs it, renames it over the slot and fsyncs slots/, in that order", async () => {
    const fs = sim();
    await createSlot(DIR, "s", { fs });
    const ops: string[] = [];
    const off = fs.onOperation((e) => ops.push(`${e.op} ${e.path}${e.to === undefined ? "" : ` ${e.to}`}`));
    await advanceSlot(DIR, "s", 4, { fs });
    off();
    const tmp = ops[0]?.slice("open ".length) ?? "";
    // A name of its own per write: the slot's and 12 random hex digits.
    expect(tmp).toMatch(/^\/log\/slots\/s\.slot\.[0-9a-f]{12}\.tmp$/);
    expect(ops).toEqual([
      `open ${tmp}`,
      `write ${tmp}`,
      `sync ${tmp}`,
      `rename ${tmp} /log/slots/s.slot`,
      "syncDir /log/slots",
    ]);
  });

  it("never touches a stale temp file left by an interrupted write; dropSlot removes it", async () => {
    const fs = sim();
    await createSlot(DIR, "s", { confirmedLsn: 1, fs });
    fs.writeFileSync(`${SLOTS}/s.slot.tmp`, new Uint8Array([1, 2, 3]));
    fs.writeFileSync(`${SLOTS}/s.slot.0123456789ab.tmp`, new Uint8Array([4]));
    fs.writeFileSync(`${SLOTS}/t.slot.0123456789ab.tmp`, new Uint8Array([5]));
    await advanceSlot(DIR, "s", 2, { fs });
    expect((await readSlot(DIR, "s", { fs })).confirmedLsn).toBe(2);
    expect((await listSlots(DIR, { fs })).map((x) => x.name)).toEqual(["s"]);
    await dropSlot(DIR, "s", { fs });
    // Only another slot's leftover stays.
    expect(fs.listSync(SLOTS)).toEqual(["t.slot.0123456789ab.tmp"]);
  });

  it("two advances of one slot at once (a misuse) each write their own file: both resolve, the last rename wins", async () => {
    const sim0 = sim();
    await createSlot(DIR, "s", { confirmedLsn: 1, fs: sim0 });
    // Hold the first advance after it created and wrote its temp file, until the second has finished.
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let reachedSync: () => void = () => undefined;
    const atSync = new Promise<void>((resolve) => {
      reachedSync = resolve;
    });
    const holding = wrapFileSystem(
      sim0,
      (file) =>
        new Proxy(file, {
          get(target, key) {
            const value = Reflect.get(target, key, target) as unknown;
            if (key === "sync" && target.path.endsWith(".tmp")) {
              return async () => {
                reachedSync();
                await held;
                await target.sync();
              };
            }
            return typeof value === "function" ? value.bind(target) : value;
          },
        }),
    );
    const first = advanceSlot(DIR, "s", 5, { fs: holding });
    try {
      // Each wait below is bounded by an event, never by the test timeout: an implementation that never reaches the
      // hold, or that makes the second advance wait for the first (held until the second is done), fails at once.
      const reached = await Promise.race([atSync.then(() => true), first.then(neverHeld, neverHeld)]);
      expect(reached, "the first advance got to its temp file's fsync").toBe(true);
      const second = advanceSlot(DIR, "s", 9, { fs: sim0 });
      expect(await settlesWithinTurns(second, 1000), "the second advance ran beside the held first").toBe(true);
      await second;
      expect((await readSlot(DIR, "s", { fs: sim0 })).confirmedLsn).toBe(9);
    } finally {
      release();
    }
    await first;
    // The first advance read the slot at 1 and stored 5: its rename came last. No temp file is left.
    expect((await readSlot(DIR, "s", { fs: sim0 })).confirmedLsn).toBe(5);
    expect(sim0.listSync(SLOTS)).toEqual(["s.slot"]);
  });

  it("passes an I/O failure on as WAL_IO and leaves the old position", async () => {
    const fs = sim();
    await createSlot(DIR, "s", { confirmedLsn: 1, fs });
    fs.injectFault({ op: "sync", errno: "EIO" });
    const details = await expectCode(advanceSlot(DIR, "s", 2, { fs }), "WAL_IO");
    expect(details.errno).toBe("EIO");
    expect((await readSlot(DIR, "s", { fs })).confirmedLsn).toBe(1);
    // The failed write removed its temp file; the next attempt goes through.
    expect(fs.listSync(SLOTS)).toEqual(["s.slot"]);
    await advanceSlot(DIR, "s", 2, { fs });
    expect((await readSlot(DIR, "s", { fs })).confirmedLsn).toBe(2);
  });
});

describe("invalidation", () => {
  const inv = { oldestRetainedLsn: 120, retainedBytes: 65_536, reason: "held back 64 KiB, limit 32 KiB" };

  it("is sticky: reads show it, advance refuses with WAL_SLOT_INVALIDATED, repeating it keeps the first details", async () => {
    const fs = sim();
    const created = await createSlot(DIR, "lagging", { confirmedLsn: 50, fs });
    const state = await invalidateSlot(DIR, "lagging", { ...inv, fs });
    const invalidated: SlotState = { ...created, invalidated: { ...inv } };
    expect(state).toEqual(invalidated);
    expect(await readSlot(DIR, "lagging", { fs })).toEqual(invalidated);
    expect(await listSlots(DIR, { fs })).toEqual([invalidated]);

    const details = await expectCode(advanceSlot(DIR, "lagging", 200, { fs }), "WAL_SLOT_INVALIDATED");
    expect(details).toMatchObject({ slot: "lagging", oldestRetainedLsn: 120 });
    expect((await readSlot(DIR, "lagging", { fs })).confirmedLsn).toBe(50);

    const again = await invalidateSlot(DIR, "lagging", { oldestRetainedLsn: 999, retainedBytes: 1, reason: "x", fs });
    expect(again).toEqual(invalidated);
    expect(fs.listSync(SLOTS)).toEqual(["lagging.invalidated", "lagging.slot"]);
  });

  it("is written whole under a temp name, fsynced, linked into place, and made durable (fsync of slots/)", async () => {
    const fs = sim();
    await createSlot(DIR, "s", { fs });
    const ops: string[] = [];
    const tmp = /^\/log\/slots\/s\.invalidated\.[0-9a-f]{12}\.tmp$/;
    const off = fs.onOperation((e) =>
      ops.push(`${e.op} ${e.path.replace(tmp, "<tmp>")}${e.to === undefined ? "" : ` ${e.to}`}`),
    );
    await invalidateSlot(DIR, "s", { ...inv, fs });
    off();
    expect(ops).toEqual([
      "open <tmp>",
      "write <tmp>",
      "sync <tmp>",
      "link <tmp> /log/slots/s.invalidated",
      "unlink <tmp>",
      "syncDir /log/slots",
    ]);
    expect(fs.listSync(SLOTS)).toEqual(["s.invalidated", "s.slot"]);
    // Repeating it changes nothing on disk: it only fsyncs slots/ (the marker may be a racing caller's, not yet
    // durable).
    ops.length = 0;
    const off2 = fs.onOperation((e) => ops.push(`${e.op} ${e.path}`));
    await invalidateSlot(DIR, "s", { ...inv, reason: "another reason", fs });
    off2();
    expect(ops).toEqual(["syncDir /log/slots"]);
    expect((await readSlot(DIR, "s", { fs })).invalidated).toEqual(inv);
  });

  it("wins against an advance that was already writing (the marker is never undone by a position write)", async () => {
    const fs = sim();
    await createSlot(DIR, "s", { confirmedLsn: 10, fs });
    // Hold the advance between writing its temp file and renaming it over the slot file.
    let release: () => void = () => undefined;
    let paused: () => void = () => undefined;
    const isPaused = new Promise<void>((resolve) => {
      paused = resolve;
    });
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const gated: WalFileSystem = {
      name: "gated",
      open: (path, mode) => fs.open(path, mode),
      mkdirp: (path) => fs.mkdirp(path),
      readdir: (path) => fs.readdir(path),
      stat: (path) => fs.stat(path),
      unlink: (path) => fs.unlink(path),
      syncDir: (path) => fs.syncDir(path),
      rename: async (from, to) => {
        paused();
        await gate;
        await fs.rename(from, to);
      },
    };
    const advancing = rejection(advanceSlot(DIR, "s", 20, { fs: gated }));
    await isPaused;
    await invalidateSlot(DIR, "s", { ...inv, fs });
    release();
    const e = await advancing;
    expect(isWalError(e, "WAL_SLOT_INVALIDATED")).toBe(true);

    const state = await readSlot(DIR, "s", { fs });
    expect(state.invalidated).toEqual(inv);
    expect(state.confirmedLsn).toBe(20); // the position was written, and does not matter any more
    await expectCode(advanceSlot(DIR, "s", 30, { fs }), "WAL_SLOT_INVALIDATED");
    // And in the durable state too: nothing an advance does removes the marker.
    const durable = fs.durableImage();
    expect((await readSlot(DIR, "s", { fs: durable })).invalidated).toEqual(inv);
  });

  it("raced by a second invalidation that finds the marker already created, both resolve with the first's details", async () => {
    const fs = sim();
    const created = await createSlot(DIR, "s", { confirmedLsn: 10, fs });
    const first = { oldestRetainedLsn: 120, retainedBytes: 65_536, reason: "first" };
    let firstState: SlotState | undefined;
    const outcomes: string[] = [];
    // The second caller read the slot as valid; before its exclusive create of the marker, the first caller runs
    // whole, so the second one's create finds the marker there (EEXIST).
    const racing: WalFileSystem = {
      name: "racing",
      open: async (path, mode) => {
        if (mode !== "createExclusive" || path !== `${SLOTS}/s.invalidated`) return await fs.open(path, mode);
        firstState = await invalidateSlot(DIR, "s", { ...first, fs });
        try {
          const file = await fs.open(path, mode);
          outcomes.push("created");
          return file;
        } catch (e) {
          outcomes.push(isWalError(e) ? String(e.details.errno) : String(e));
          throw e;
        }
      },
      mkdirp: (path) => fs.mkdirp(path),
      readdir: (path) => fs.readdir(path),
      stat: (path) => fs.stat(path),
      rename: (from, to) => fs.rename(from, to),
      unlink: (path) => fs.unlink(path),
      syncDir: (path) => fs.syncDir(path),
    };
    const second = await invalidateSlot(DIR, "s", {
      oldestRetainedLsn: 999,
      retainedBytes: 1,
      reason: "second",
      fs: racing,
    });
    expect(outcomes).toEqual(["EEXIST"]);
    const invalidated: SlotState = { ...created, invalidated: first };
    expect(firstState).toEqual(invalidated);
    expect(second).toEqual(invalidated);
    expect(await readSlot(DIR, "s", { fs })).toEqual(invalidated);
    expect(await readSlot(DIR, "s", { fs: fs.durableImage() })).toEqual(invalidated);
    expect(fs.listSync(SLOTS)).toEqual(["s.invalidated", "s.slot"]);
  });

  it("reads a marker whose body is unreadable as invalidated, with unknown details", async () => {
    const fs = sim();
    await createSlot(DIR, "s", { fs });
    for (const body of [new Uint8Array(0), new Uint8Array(40), new Uint8Array(10_000)]) {
      fs.writeFileSync(`${SLOTS}/s.invalidated`, body);
      const state = await readSlot(DIR, "s", { fs });
      expect(state.invalidated).toMatchObject({ oldestRetainedLsn: null, retainedBytes: null });
      expect(state.invalidated?.reason).toContain("unreadable");
      const details = await expectCode(advanceSlot(DIR, "s", 5, { fs }), "WAL_SLOT_INVALIDATED");
      expect(details.slot).toBe("s");
      expect("oldestRetainedLsn" in details).toBe(false);
    }
  });

  it("reads a marker whose reason length is over the limit as unreadable, even with a correct CRC", async () => {
    const fs = sim();
    await createSlot(DIR, "s", { fs });
    // One byte over MAX_SLOT_REASON_BYTES: the longest marker a reader looks at, one byte too long to be valid.
    const n = 4097;
    const body = new Uint8Array(28 + n + 4);
    const view = new DataView(body.buffer);
    body.set([0x4c, 0x57, 0x53, 0x49, 0x4e, 0x56, 0x00, 0x01], 0);
    view.setUint32(8, 100, true);
    view.setUint32(16, 5000, true);
    view.setUint32(24, n, true);
    body.fill(0x78, 28, 28 + n);
    view.setUint32(28 + n, crc32(body.subarray(0, 28 + n)), true);
    fs.writeFileSync(`${SLOTS}/s.invalidated`, body);
    const state = await readSlot(DIR, "s", { fs });
    expect(state.invalidated).toMatchObject({ oldestRetainedLsn: null, retainedBytes: null });
    expect(state.invalidated?.reason).toContain("unreadable");
  });

  it("detects a damaged marker body by its CRC", async () => {
    const fs = sim();
    await createSlot(DIR, "s", { fs });
    await invalidateSlot(DIR, "s", { ...inv, fs });
    const body = fs.readFileSync(`${SLOTS}/s.invalidated`);
    body[30] = (body[30] as number) ^ 0x01; // inside the reason text
    fs.writeFileSync(`${SLOTS}/s.invalidated`, body);
    expect((await readSlot(DIR, "s", { fs })).invalidated).toMatchObject({ oldestRetainedLsn: null });
  });

  it("refuses a reason that is too long or not well-formed, writing no marker", async () => {
    const fs = sim();
    await createSlot(DIR, "s", { fs });
    for (const reason of ["x".repeat(4097), "\ud800", 7]) {
      await expectCode(invalidateSlot(DIR, "s", { ...inv, reason: reason as string, fs }), "WAL_INVALID_ARGUMENT");
    }
    expect((await readSlot(DIR, "s", { fs })).invalidated).toBeNull();
    const longest = "é".repeat(2048); // 4096 UTF-8 bytes
    expect((await invalidateSlot(DIR, "s", { ...inv, reason: longest, fs })).invalidated?.reason).toBe(longest);
    expect((await readSlot(DIR, "s", { fs })).invalidated?.reason).toBe(longest);
  });

  it("ends with the slot: a slot created again after a drop starts valid, even over an orphaned marker", async () => {
    const fs = sim();
    await createSlot(DIR, "s", { confirmedLsn: 3, fs });
    await invalidateSlot(DIR, "s", { ...inv, fs });
    await dropSlot(DIR, "s", { fs });
    expect(fs.listSync(SLOTS)).toEqual([]);
    expect((await createSlot(DIR, "s", { fs })).invalidated).toBeNull();

    // A drop cut short after removing the position file leaves the marker behind.
    await dropSlot(DIR, "s", { fs });
    fs.writeFileSync(`${SLOTS}/s.invalidated`, new Uint8Array(0));
    expect(await listSlots(DIR, { fs })).toEqual([]);
    await expectCode(readSlot(DIR, "s", { fs }), "WAL_SLOT_NOT_FOUND");
    expect((await createSlot(DIR, "s", { fs })).invalidated).toBeNull();
    expect((await readSlot(DIR, "s", { fs: fs.durableImage() })).invalidated).toBeNull();
  });
});

describe("a damaged slot file is WAL_CORRUPT naming its path", () => {
  const path = `${SLOTS}/s.slot`;
  const damages: [string, (good: Uint8Array) => Uint8Array][] = [
    ["a flipped bit", (good) => good.map((b, i) => (i === 9 ? b ^ 0x10 : b))],
    ["a flipped CRC bit", (good) => good.map((b, i) => (i === 35 ? b ^ 0x80 : b))],
    ["a cut-short file", (good) => good.subarray(0, SLOT_FILE_BYTES - 1)],
    ["an empty file", () => new Uint8Array(0)],
    ["a longer file", (good) => Uint8Array.of(...good, 0)],
    ["a wrong magic (with a matching CRC)", () => slotFileBytes(1, 0, new Uint8Array(8).fill(0x41))],
    [
      "a newer format version (with a matching CRC)",
      () => slotFileBytes(1, 0, Uint8Array.of(...SLOT_FILE_MAGIC.subarray(0, 7), 3)),
    ],
    ["an LSN above 2^53 - 1 (with a matching CRC)", () => slotFileBytes(0, 0x20_0000)],
    [
      "a restart LSN above confirmedLsn + 1 (with a matching CRC)",
      () => {
        const bytes = slotFileBytes(3, 0);
        const view = new DataView(bytes.buffer);
        view.setUint32(16, 5, true);
        view.setUint32(32, crc32(bytes.subarray(0, 32)), true);
        return bytes;
      },
    ],
    ["a version 1 file cut short", () => slotFileV1(4, 1).subarray(0, 27)],
  ];

  it("a newer format version says so, not that the magic is bad", async () => {
    const fs = sim();
    await createSlot(DIR, "s", { confirmedLsn: 1, fs });
    fs.writeFileSync(path, slotFileBytes(1, 0, Uint8Array.of(...SLOT_FILE_MAGIC.subarray(0, 7), 3)));
    const e = await rejection(readSlot(DIR, "s", { fs }));
    expect(isWalError(e, "WAL_CORRUPT")).toBe(true);
    expect((e as Error).message).toContain("format version 3, newer than the versions this @lora/wal reads (1, 2)");
  });

  for (const [what, damage] of damages) {
    it(`after ${what}`, async () => {
      const fs = sim();
      await createSlot(DIR, "s", { confirmedLsn: 1, fs });
      fs.writeFileSync(path, damage(fs.readFileSync(path)));
      for (const call of [readSlot(DIR, "s", { fs }), listSlots(DIR, { fs }), advanceSlot(DIR, "s", 2, { fs })]) {
        const e = await rejection(call);
        expect(isWalError(e, "WAL_CORRUPT")).toBe(true);
        expect((e as Error).message).toContain(path);
        expect(isWalError(e) && e.details.path).toBe(path);
      }
    });
  }

  it("except a version 1 file (28 bytes), which reads with restartLsn = confirmedLsn + 1 and advances to version 2", async () => {
    const fs = sim();
    await createSlot(DIR, "s", { fs });
    fs.writeFileSync(path, slotFileV1(41, 1234));
    expect(await readSlot(DIR, "s", { fs })).toEqual({
      name: "s",
      confirmedLsn: 41,
      restartLsn: 42,
      createdAtMs: 1234,
      invalidated: null,
    });
    await advanceSlot(DIR, "s", 50, { fs, restartLsn: 44 });
    expect(fs.readFileSync(path).byteLength).toBe(SLOT_FILE_BYTES);
    expect(await readSlot(DIR, "s", { fs })).toMatchObject({ confirmedLsn: 50, restartLsn: 44, createdAtMs: 1234 });
  });

  it("while the largest safe LSN, written by hand, reads back", async () => {
    const fs = sim();
    await createSlot(DIR, "s", { fs });
    fs.writeFileSync(path, slotFileBytes(0xffff_ffff, 0x1f_ffff));
    expect((await readSlot(DIR, "s", { fs })).confirmedLsn).toBe(Number.MAX_SAFE_INTEGER);
  });
});

// ---- crash images --------------------------------------------------------------------------------------------

/**
 * Run `work` on `fs`, taking the crash images SimFS offers after every mutating file operation (and once more at
 * the end): every state a power loss at any point of `work` could leave.
 */
async function imagesDuring(fs: SimFS, work: () => Promise<unknown>): Promise<{ at: string; fs: SimFS }[]> {
  const images: { at: string; fs: SimFS }[] = [];
  const take = (at: string): void => {
    for (const image of fs.crashImages({ maxImages: 64, seed: 11 })) {
      images.push({ at: `${at}: ${image.description}`, fs: image.fs });
    }
  };
  take("before");
  const off = fs.onOperation((e: SimOperationEvent) => take(`after ${e.op} ${e.path}`));
  try {
    await work();
  } finally {
    off();
  }
  take("after the call");
  return images;
}

describe("after a crash at any point", () => {
  it("of advanceSlot, the slot reads its old or its new position, and can advance again", async () => {
    const fs = sim();
    const created = await createSlot(DIR, "s", { confirmedLsn: 10, fs });
    await advanceSlot(DIR, "s", 15, { fs }); // leaves no temp file behind: a later write still removes a stale one
    fs.writeFileSync(`${SLOTS}/s.slot.tmp`, new Uint8Array([9, 9, 9])); // a stale temp from an earlier crash
    const images = await imagesDuring(fs, () => advanceSlot(DIR, "s", 20, { fs }));
    const seen = new Set<number>();
    for (const { at, fs: image } of images) {
      const state = await readSlot(DIR, "s", { fs: image });
      expect([15, 20], at).toContain(state.confirmedLsn);
      expect(state, at).toEqual({ ...created, confirmedLsn: state.confirmedLsn, restartLsn: state.confirmedLsn + 1 });
      seen.add(state.confirmedLsn);
      expect(
        (await listSlots(DIR, { fs: image })).map((s) => s.name),
        at,
      ).toEqual(["s"]);
      await advanceSlot(DIR, "s", 30, { fs: image });
      expect((await readSlot(DIR, "s", { fs: image.durableImage() })).confirmedLsn, at).toBe(30);
    }
    expect([...seen].sort()).toEqual([15, 20]);
    expect(images.length).toBeGreaterThan(10);
    // Once advanceSlot has resolved, only the new position can survive.
    expect((await readSlot(DIR, "s", { fs: fs.durableImage() })).confirmedLsn).toBe(20);
  });

  it("of createSlot, the slot is missing or complete, and creating it again works", async () => {
    const fs = sim();
    let created: SlotState | undefined;
    const images = await imagesDuring(fs, async () => {
      created = await createSlot(DIR, "s", { confirmedLsn: 4, fs });
    });
    let missing = 0;
    for (const { at, fs: image } of images) {
      const listed = await listSlots(DIR, { fs: image });
      if (listed.length === 0) {
        missing++;
        await expectCode(readSlot(DIR, "s", { fs: image }), "WAL_SLOT_NOT_FOUND");
        expect((await createSlot(DIR, "s", { confirmedLsn: 4, fs: image })).confirmedLsn, at).toBe(4);
      } else {
        expect(listed, at).toEqual([created]);
      }
    }
    expect(missing).toBeGreaterThan(0);
    expect(await listSlots(DIR, { fs: fs.durableImage() })).toEqual([created]);
  });

  it("of createSlot over an orphaned marker, the slot is missing or valid, never born invalidated", async () => {
    const fs = sim();
    fs.writeFileSync(`${SLOTS}/s.invalidated`, new Uint8Array(0)); // left by a drop cut short
    const images = await imagesDuring(fs, () => createSlot(DIR, "s", { confirmedLsn: 4, fs }));
    let valid = 0;
    for (const { at, fs: image } of images) {
      const listed = await listSlots(DIR, { fs: image });
      if (listed.length === 0) continue;
      valid++;
      expect(listed[0]?.invalidated, at).toBeNull();
    }
    expect(valid).toBeGreaterThan(0);
  });

  it("of createSlot, the new slots/ folder's entry is made durable by an fsync of the log directory", async () => {
    const fs = sim();
    const events: string[] = [];
    const off = fs.onOperation((e) => events.push(`${e.op} ${e.path}`));
    await createSlot(DIR, "s", { fs });
    off();
    expect(events.slice(0, 2)).toEqual(["mkdirp /log/slots", "syncDir /log"]);
    expect(events.at(-1)).toBe("syncDir /log/slots");
    // A second slot finds the folder and makes none, but fsyncs the log directory again: a folder found may be one
    // a killed createSlot made without that fsync (create-slot-unsynced-dir.test.ts shows the slot lost then).
    events.length = 0;
    const off2 = fs.onOperation((e) => events.push(`${e.op} ${e.path}`));
    await createSlot(DIR, "t", { fs });
    off2();
    expect(events.filter((e) => e.startsWith("mkdirp") || e === "syncDir /log")).toEqual(["syncDir /log"]);
  });

  it("of invalidateSlot, the slot is valid or invalidated (never lost or corrupt), and invalidated once it resolved", async () => {
    const fs = sim();
    const created = await createSlot(DIR, "s", { confirmedLsn: 8, fs });
    const inv = { oldestRetainedLsn: 100, retainedBytes: 5000, reason: "too far behind" };
    const images = await imagesDuring(fs, () => invalidateSlot(DIR, "s", { ...inv, fs }));
    let valid = 0;
    let invalidated = 0;
    const again = { oldestRetainedLsn: 200, retainedBytes: 1, reason: "again" };
    let leftovers = 0;
    for (const { at, fs: image } of images) {
      if (image.listSync(SLOTS).some((n) => n.endsWith(".tmp"))) leftovers++;
      const state = await readSlot(DIR, "s", { fs: image });
      expect(state.confirmedLsn, at).toBe(created.confirmedLsn);
      expect(
        (await listSlots(DIR, { fs: image })).map((s) => s.name),
        at,
      ).toEqual(["s"]);
      if (state.invalidated === null) {
        valid++;
        const copy = image.clone();
        expect((await advanceSlot(DIR, "s", 9, { fs: image })).confirmedLsn, at).toBe(9);
        // A temp file the crash left does not stand in the way of invalidating the slot again.
        expect((await invalidateSlot(DIR, "s", { ...again, fs: copy })).invalidated, at).toEqual(again);
        expect((await readSlot(DIR, "s", { fs: copy.durableImage() })).invalidated, at).toEqual(again);
      } else {
        invalidated++;
        // The marker took its name whole (its body was durable before the link): never unreadable, never wrong.
        expect(state.invalidated, at).toEqual(inv);
        await expectCode(advanceSlot(DIR, "s", 9, { fs: image }), "WAL_SLOT_INVALIDATED");
        expect((await invalidateSlot(DIR, "s", { ...again, fs: image })).invalidated, at).toEqual(inv);
      }
      // Dropping the slot removes whatever the crash left of the invalidation too.
      await dropSlot(DIR, "s", { fs: image });
      expect(image.durableImage().listSync(SLOTS), at).toEqual([]);
    }
    expect(valid).toBeGreaterThan(0);
    expect(invalidated).toBeGreaterThan(0);
    expect(leftovers).toBeGreaterThan(0);
    expect((await readSlot(DIR, "s", { fs: fs.durableImage() })).invalidated).toEqual(inv);
  });

  it("of dropSlot, an invalidated slot is still invalidated or gone, never valid again", async () => {
    const fs = sim();
    await createSlot(DIR, "s", { confirmedLsn: 8, fs });
    await invalidateSlot(DIR, "s", { oldestRetainedLsn: 50, retainedBytes: 1, reason: "r", fs });
    const images = await imagesDuring(fs, () => dropSlot(DIR, "s", { fs }));
    let gone = 0;
    for (const { at, fs: image } of images) {
      const listed = await listSlots(DIR, { fs: image });
      if (listed.length === 0) {
        gone++;
        // Creating the name again gives a valid slot, whatever the drop left behind.
        expect((await createSlot(DIR, "s", { fs: image })).invalidated, at).toBeNull();
        expect((await readSlot(DIR, "s", { fs: image.durableImage() })).invalidated, at).toBeNull();
      } else {
        expect(listed[0]?.invalidated, at).not.toBeNull();
      }
    }
    expect(gone).toBeGreaterThan(0);
    expect(await listSlots(DIR, { fs: fs.durableImage() })).toEqual([]);
  });

  it("of dropSlot, once it resolved, its marker and temp leftovers are gone for good", async () => {
    for (const [invalidated, leftover] of [
      [true, true],
      [true, false],
      [false, true],
    ]) {
      const fs = sim();
      await createSlot(DIR, "s", { fs });
      if (invalidated) await invalidateSlot(DIR, "s", { oldestRetainedLsn: 50, retainedBytes: 1, reason: "r", fs });
      // Left by an interrupted write.
      if (leftover) fs.writeFileSync(`${SLOTS}/s.slot.0123456789ab.tmp`, new Uint8Array([9]));
      await dropSlot(DIR, "s", { fs });
      expect(fs.durableImage().listSync(SLOTS), `invalidated: ${invalidated}, leftover: ${leftover}`).toEqual([]);
    }
  });
});
