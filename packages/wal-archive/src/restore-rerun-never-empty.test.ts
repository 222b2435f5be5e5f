/**
 * A restore run again into a directory holding only the `*.restoring` files of one that did not finish must keep
 * that directory refused until its own log is in place: at every step a crash can interrupt, and after every way it
 * can fail (its file system failing at any call, an archive object found corrupt, an abort, its `onProgress`
 * throwing once the log is in place), `Wal.open` refuses the directory (`WAL_MALFORMED`, or `WAL_FENCE_TOO_LOW`
 * while only the newest segments are in place) or opens it with the whole restored history; it never opens it as an
 * empty log (from a review: the leftovers were removed before the new restore wrote anything, so a failure after
 * that left an empty directory, which opened as a new log: every restored record silently gone). And a restore run
 * once more afterwards gives the whole history.
 *
 * The leftovers are those of a restore of another range: the same names, fewer (an earlier `toLsn`), more (the
 * re-run starts at a fence), a single file the re-run does not write at all, or a single file it does write (the
 * oldest or the newest: overwritten in place, its name never leaves the directory, else a crash finds it empty).
 * Also: an archive of sealed segments only (the re-run creates an empty successor, which its undo removes), and
 * leftovers whose directory entries are not yet durable (as a failed re-run leaves the files it wrote: the re-run
 * fsyncs the directory before it changes anything).
 */

import { Wal } from "@lora/wal";
import { isWalError, type JsonValue, jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import type { ArchiveStore } from "./archive-store.js";
import { type MemoryArchive, memoryArchive } from "./memory-archive.js";
import { type RestoreOptions, restore } from "./restore.js";
import { archivedLog } from "./test-support/archived-log.js";

const DIR = "/r";
const COMMITS = 24;
/** Crash images taken after each file operation of a restore (seeded: the same ones every run). */
const IMAGES_PER_STEP = 3;
/**
 * The seed of the failing calls tried per operation type: the first, the last and seeded draws between, at most
 * `FAULTS_PER_OP` (every call when there are no more).
 */
const FAULT_SEED = 0x5eed;
const FAULTS_PER_OP = 10;
/** Every call SimFS can fail (its `close` cannot fail: it only marks the handle closed). */
const FAULT_OPS = ["open", "truncate", "write", "sync", "syncDir", "unlink", "rename"] as const;

interface Archive {
  readonly store: MemoryArchive;
  /** The commit LSNs the archive holds, in order. */
  readonly lsns: number[];
}

/** The archived log; with `sealedOnly`, its sealed segments only (its unsealed pieces dropped). */
async function archive(variant: Pick<Variant, "sealedOnly"> = {}): Promise<Archive> {
  const store = memoryArchive();
  const lsns = await archivedLog(new SimFS(), store, { commits: COMMITS });
  if (variant.sealedOnly !== true) return { store, lsns };
  for (const key of store.keys()) if (key.startsWith("partial/")) store.remove(key);
  const { lastLsn } = await restore({ store, dir: DIR, fs: new SimFS() });
  return { store, lsns: lsns.filter((lsn) => lsn <= (lastLsn as number)) };
}

type Range = Pick<RestoreOptions, "toLsn" | "fromLsn">;

/** How the leftovers came about, and the range the restore is run again with. */
interface Variant {
  readonly name: string;
  readonly leftovers: (a: Archive) => Range;
  readonly keepOnly?: (names: string[]) => string[];
  readonly rerun: (a: Archive) => Range;
  /** The archive holds sealed segments only: the re-run creates an empty successor. */
  readonly sealedOnly?: boolean;
  /** The leftovers' bytes are durable, their directory entries not (no fsync of the directory since). */
  readonly unsynced?: boolean;
}

const VARIANTS: readonly Variant[] = [
  { name: "the same names", leftovers: () => ({}), rerun: () => ({}) },
  { name: "fewer names", leftovers: (a) => ({ toLsn: a.lsns[6] as number }), rerun: () => ({}) },
  { name: "names the re-run does not write", leftovers: () => ({}), rerun: (a) => ({ fromLsn: a.lsns[9] as number }) },
  {
    name: "one name the re-run does not write",
    leftovers: () => ({}),
    keepOnly: (names) => names.slice(0, 1),
    rerun: (a) => ({ fromLsn: a.lsns[9] as number }),
  },
  {
    name: "only the oldest name, full re-run",
    leftovers: () => ({}),
    keepOnly: (names) => names.slice(0, 1),
    rerun: () => ({}),
  },
  {
    name: "only the newest name, full re-run",
    leftovers: () => ({}),
    keepOnly: (names) => names.slice(-1),
    rerun: () => ({}),
  },
  { name: "sealed segments only", leftovers: () => ({}), rerun: () => ({}), sealedOnly: true },
  { name: "entries not yet durable", leftovers: () => ({}), rerun: () => ({}), unsynced: true },
];

/**
 * A SimFS whose `DIR` holds only `.restoring` files: those a restore of `range` wrote (the newest cut short, as a
 * crash mid-write leaves it), as a crash before its first rename leaves them (durably; with `unsynced`, their
 * entries not yet).
 */
async function leftovers(a: Archive, variant: Variant): Promise<SimFS> {
  const scratch = new SimFS();
  const { successor } = await restore({ store: a.store, dir: DIR, fs: scratch, ...variant.leftovers(a) });
  let names = scratch
    .listSync(DIR)
    .filter((n) => `${DIR}/${n}` !== successor)
    .sort();
  names = variant.keepOnly?.(names) ?? names;
  const fs = new SimFS();
  fs.mkdirpSync(DIR);
  for (const [i, n] of names.entries()) {
    const path = `${DIR}/${n}.restoring`;
    const bytes = scratch.readFileSync(`${DIR}/${n}`);
    const landed = i === names.length - 1 ? bytes.subarray(0, 40) : bytes;
    if (variant.unsynced !== true) {
      fs.writeFileSync(path, landed);
      continue;
    }
    const file = await fs.open(path, "createExclusive");
    await file.write(landed, 0);
    await file.sync();
    await file.close();
  }
  return fs;
}

/** Up to `FAULTS_PER_OP` of the call indexes 0..count-1: the first, the last, the others drawn with `seed`. */
function sampledSkips(count: number, seed: number): number[] {
  if (count <= FAULTS_PER_OP) return Array.from({ length: count }, (_, i) => i);
  const picked = new Set([0, count - 1]);
  let state = seed >>> 0;
  while (picked.size < FAULTS_PER_OP) {
    // mulberry32
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    picked.add(((t ^ (t >>> 14)) >>> 0) % count);
  }
  return [...picked].sort((x, y) => x - y);
}

/** How many calls of each kind in `DIR` a fault-free re-run makes (its only calls elsewhere: fsyncs of a parent). */
async function callCounts(
  a: Archive,
  variant: Variant,
  range: Range,
): Promise<Record<(typeof FAULT_OPS)[number], number>> {
  const fs = await leftovers(a, variant);
  const before = { ...fs.stats };
  let parentSyncs = 0;
  const off = fs.onOperation((e) => {
    if (e.op === "syncDir" && e.path !== DIR) parentSyncs++;
  });
  await restore({ store: a.store, dir: DIR, fs, ...range });
  off();
  const after = fs.stats;
  const diff = (k: keyof typeof after) => (after[k] as number) - (before[k] as number);
  return {
    open: diff("opens"),
    truncate: diff("truncates"),
    write: diff("writes"),
    sync: diff("syncs"),
    syncDir: diff("dirSyncs") - parentSyncs,
    unlink: diff("unlinks"),
    rename: diff("renames"),
  };
}

/** The events the re-run restores, and the fence to open it at. */
function expectedOf(a: Archive, range: Range): { fence: number; events: JsonValue[] } {
  const fence = range.fromLsn ?? 0;
  const first = fence === 0 ? 0 : a.lsns.indexOf(fence) + 1;
  return { fence, events: a.lsns.slice(first).map((_, i) => ({ i: first + i })) };
}

/**
 * What `Wal.open` (default mode, at the fence) makes of `fs`, on a copy: refused (by code) or the whole history;
 * `"empty"` only when `emptyAllowed`.
 */
async function opened(
  fs: SimFS,
  fence: number,
  events: JsonValue[],
  at: string,
  emptyAllowed = false,
): Promise<string> {
  const copy = fs.clone();
  const names = (await copy.stat(DIR)) === null ? [] : copy.listSync(DIR);
  if (emptyAllowed && names.length === 0) return "empty";
  expect(names, `${at}: an empty directory opens as an empty log`).not.toEqual([]);
  try {
    const { wal, events: got } = await Wal.open<JsonValue>(DIR, { fs: copy, codec: jsonCodec, checkpointLsn: fence });
    await wal.close();
    expect(got, at).toEqual(events);
    return "whole";
  } catch (error) {
    const code = isWalError(error) ? error.code : String(error);
    expect(["WAL_MALFORMED", "WAL_FENCE_TOO_LOW"], `${at}: ${String(error)}`).toContain(code);
    return code;
  }
}

/** The re-run restore, once more without faults: the whole history, no `.restoring` file left. */
async function finishes(fs: SimFS, a: Archive, range: Range, at: string): Promise<void> {
  fs.clearFaults();
  await restore({ store: a.store, dir: DIR, fs, ...range });
  expect(
    fs.listSync(DIR).filter((n) => n.endsWith(".restoring")),
    at,
  ).toEqual([]);
  const { fence, events } = expectedOf(a, range);
  expect(await opened(fs, fence, events, at)).toBe("whole");
}

describe("a restore run again over the leftovers of one that did not finish", () => {
  for (const variant of VARIANTS) {
    it(`${variant.name}: every crash image is refused or whole, never empty`, async () => {
      const a = await archive(variant);
      const range = variant.rerun(a);
      const { fence, events } = expectedOf(a, range);
      const fs = await leftovers(a, variant);
      expect(await opened(fs, fence, events, "before")).toBe("WAL_MALFORMED");
      const images: { at: string; fs: SimFS }[] = [];
      // From its first operation in DIR on: until then DIR is as found (leftovers whose entries are not yet durable
      // are lost by a crash before the re-run starts as much as by one while it makes the parent durable).
      let inDir = false;
      let steps = 0;
      const off = fs.onOperation((e) => {
        inDir ||= e.path === DIR || e.path.startsWith(`${DIR}/`);
        if (!inDir) return;
        steps++;
        for (const image of fs.crashImages({ maxImages: IMAGES_PER_STEP, seed: e.seq }))
          images.push({ at: `after #${e.seq} ${e.op} ${e.path}: ${image.description}`, fs: image.fs });
      });
      await restore({ store: a.store, dir: DIR, fs, ...range });
      off();
      // The leftovers it did not replace are gone too.
      expect(fs.listSync(DIR).filter((n) => n.endsWith(".restoring"))).toEqual([]);
      const outcomes = new Set<string>();
      for (const image of images) outcomes.add(await opened(image.fs, fence, events, image.at));
      expect(outcomes).toContain("WAL_MALFORMED");
      expect(outcomes).toContain("whole");
      // At least one image after each step; at least a write, a sync and a rename per segment restored.
      expect(images.length).toBeGreaterThanOrEqual(steps);
      expect(steps).toBeGreaterThanOrEqual(3 * fs.listSync(DIR).filter((n) => n.endsWith(".wal")).length);
      // A crash image of a refused state is finished by the restore run once more.
      const refused = images.filter((i) => i.fs.listSync(DIR).every((n) => n.endsWith(".restoring")));
      for (const image of refused.slice(0, 3)) await finishes(image.fs, a, range, image.at);
    });

    it(`${variant.name}: its file system failing at any call leaves it refused, at every crash image too`, async () => {
      const a = await archive(variant);
      const range = variant.rerun(a);
      const { fence, events } = expectedOf(a, range);
      const counts = await callCounts(a, variant, range);
      let failures = 0;
      let tried = 0;
      for (const [k, op] of FAULT_OPS.entries()) {
        // Seeded: the same calls fail every run. One more run past the last call checks the count: no call fails.
        for (const skip of [...sampledSkips(counts[op], FAULT_SEED + k), counts[op]]) {
          const fs = await leftovers(a, variant);
          const fault = fs.injectFault({ op, errno: "EIO", skip, path: /^\/r(\/|$)/ });
          const images: { at: string; fs: SimFS }[] = [];
          const off = fs.onOperation((e) => {
            if (fault.hits === 0) return;
            for (const image of fs.crashImages({ maxImages: 2, seed: e.seq }))
              images.push({
                at: `${op} #${skip + 1} failed, then #${e.seq} ${e.op}: ${image.description}`,
                fs: image.fs,
              });
          });
          const failure = await restore({ store: a.store, dir: DIR, fs, ...range }).then(
            () => undefined,
            (error: unknown) => error,
          );
          off();
          const at = `${op} #${skip + 1} failed`;
          if (skip === counts[op]) {
            expect(fault.hits, at).toBe(0);
            expect(failure, at).toBeUndefined();
            continue;
          }
          tried++;
          expect(fault.hits, at).toBe(1);
          failures++;
          expect(isWalError(failure) ? failure.code : String(failure), at).toBe("WAL_IO");
          expect(await opened(fs, fence, events, at)).not.toBe("whole");
          // Leftovers whose entries its first fsync of DIR failed to make durable never become durable (a failed
          // fsync drops what it did not write): a crash loses them as one before the re-run would, not by its doing.
          const neverDurable = variant.unsynced === true && op === "syncDir" && skip === 0;
          for (const image of images) await opened(image.fs, fence, events, image.at, neverDurable);
          await finishes(fs, a, range, at);
        }
      }
      expect(failures).toBe(tried);
      // Every kind of call but those a re-run may not make at all (a cut of a file it overwrites, a removal of a
      // leftover it does not write) was made, and failed.
      for (const op of FAULT_OPS) if (op !== "truncate" && op !== "unlink") expect(counts[op], op).toBeGreaterThan(0);
      expect(failures).toBeGreaterThanOrEqual(
        Math.min(FAULTS_PER_OP, counts.open) + Math.min(FAULTS_PER_OP, counts.rename),
      );
    });

    it(`${variant.name}: a corrupt object, an abort, or a throwing onProgress at any point leaves it refused`, async () => {
      const a = await archive(variant);
      const range = variant.rerun(a);
      const { fence, events } = expectedOf(a, range);
      for (const how of ["corrupt", "abort"] as const) {
        for (let k = 0; k < 200; k++) {
          const fs = await leftovers(a, variant);
          const controller = new AbortController();
          let gets = 0;
          const store: ArchiveStore = {
            ...a.store,
            name: a.store.name,
            list: (prefix, options) => a.store.list(prefix, options),
            get: async (key, options) => {
              const bytes = await a.store.get(key, options);
              if (gets++ !== k || bytes === null) return bytes;
              if (how === "abort") {
                controller.abort(new Error("stop"));
                return bytes;
              }
              const bad = bytes.slice();
              bad[bad.length - 1] = (bad[bad.length - 1] as number) ^ 0xff;
              return bad;
            },
          };
          const failure = await restore({ store, dir: DIR, fs, signal: controller.signal, ...range }).then(
            () => undefined,
            (error: unknown) => error,
          );
          const at = `${how} at get #${k + 1}`;
          if (gets <= k) {
            expect(failure, at).toBeUndefined();
            break;
          }
          if (how === "abort") expect((failure as Error).message, at).toBe("stop");
          else expect(isWalError(failure) ? failure.code : String(failure), at).toBe("WAL_ARCHIVE_CORRUPT");
          expect(await opened(fs, fence, events, at)).not.toBe("whole");
          await finishes(fs, a, range, at);
        }
      }
      // Once every segment is in place: a callback that throws at the final report fails the restore, which undoes it.
      const fs = await leftovers(a, variant);
      const images: { at: string; fs: SimFS }[] = [];
      const onProgress = (p: { done: boolean }) => {
        if (!p.done) return;
        images.push(...[...fs.crashImages({ maxImages: 4, seed: 1 })].map((i) => ({ at: i.description, fs: i.fs })));
        fs.onOperation((e) => {
          for (const image of fs.crashImages({ maxImages: 2, seed: e.seq }))
            images.push({ at: `undo #${e.seq} ${e.op}: ${image.description}`, fs: image.fs });
        });
        throw new Error("callback");
      };
      const failure = await restore({ store: a.store, dir: DIR, fs, onProgress, ...range }).catch((e: unknown) => e);
      expect((failure as Error).message).toBe("callback");
      expect(await opened(fs, fence, events, "after the callback threw")).not.toBe("whole");
      for (const image of images) await opened(image.fs, fence, events, image.at);
      await finishes(fs, a, range, "after the callback threw");
    });
  }
});

it("renames it cannot undo are named, the directory refused (the log starts late); emptied, it restores again", async () => {
  const a = await archive();
  const fs = await leftovers(a, VARIANTS[0] as Variant);
  const { events } = expectedOf(a, {});
  // Every rename fails from the second on: the second forward rename, and the undo of the first.
  const off = fs.onOperation((e) => {
    if (e.op === "rename") fs.injectFault({ op: "rename", errno: "EIO", persistent: true });
  });
  const failure = await restore({ store: a.store, dir: DIR, fs }).catch((e: unknown) => e);
  off();
  expect(failure).toMatchObject({ code: "WAL_IO", details: { syscall: "rename" } });
  const newest = fs
    .listSync(DIR)
    .filter((n) => n.endsWith(".wal"))
    .sort();
  expect(newest.length).toBe(1);
  expect((failure as Error).message).toContain(
    `restore could not undo its renames: 1 segment(s) are left in place in ${DIR} (${newest[0]}) beside .restoring files`,
  );
  expect(await opened(fs, 0, events, "stuck")).toBe("WAL_FENCE_TOO_LOW");
  // As the advice says: empty it and restore into it again.
  fs.clearFaults();
  for (const n of fs.listSync(DIR)) await fs.unlink(`${DIR}/${n}`);
  await finishes(fs, a, {}, "emptied");
});
