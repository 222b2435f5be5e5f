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
 * re-run starts at a fence), or a single file the re-run does not write at all.
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

interface Archive {
  readonly store: MemoryArchive;
  readonly lsns: number[];
}

async function archive(): Promise<Archive> {
  const store = memoryArchive();
  return { store, lsns: await archivedLog(new SimFS(), store, { commits: COMMITS }) };
}

type Range = Pick<RestoreOptions, "toLsn" | "fromLsn">;

/** How the leftovers came about, and the range the restore is run again with. */
interface Variant {
  readonly name: string;
  readonly leftovers: (a: Archive) => Range;
  readonly keepOnly?: (names: string[]) => string[];
  readonly rerun: (a: Archive) => Range;
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
];

/**
 * A SimFS whose `DIR` holds, durably, only `.restoring` files: those a restore of `range` wrote (the newest cut
 * short, as a crash mid-write leaves it), as a crash before its first rename leaves them.
 */
async function leftovers(a: Archive, variant: Variant): Promise<SimFS> {
  const scratch = new SimFS();
  await restore({ store: a.store, dir: DIR, fs: scratch, ...variant.leftovers(a) });
  let names = scratch.listSync(DIR).sort();
  names = variant.keepOnly?.(names) ?? names;
  const fs = new SimFS();
  fs.mkdirpSync(DIR);
  for (const [i, n] of names.entries()) {
    const bytes = scratch.readFileSync(`${DIR}/${n}`);
    fs.writeFileSync(`${DIR}/${n}.restoring`, i === names.length - 1 ? bytes.subarray(0, 40) : bytes);
  }
  return fs;
}

/** The events the re-run restores, and the fence to open it at. */
function expectedOf(a: Archive, range: Range): { fence: number; events: JsonValue[] } {
  const fence = range.fromLsn ?? 0;
  const first = fence === 0 ? 0 : a.lsns.indexOf(fence) + 1;
  return { fence, events: a.lsns.slice(first).map((_, i) => ({ i: first + i })) };
}

/** What `Wal.open` (default mode, at the fence) makes of `fs`, on a copy: refused (by code) or the whole history. */
async function opened(fs: SimFS, fence: number, events: JsonValue[], at: string): Promise<string> {
  const copy = fs.clone();
  const names = (await copy.stat(DIR)) === null ? [] : copy.listSync(DIR);
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
      const a = await archive();
      const range = variant.rerun(a);
      const { fence, events } = expectedOf(a, range);
      const fs = await leftovers(a, variant);
      expect(await opened(fs, fence, events, "before")).toBe("WAL_MALFORMED");
      const images: { at: string; fs: SimFS }[] = [];
      const off = fs.onOperation((e) => {
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
      expect(images.length).toBeGreaterThan(40);
      // A crash image of a refused state is finished by the restore run once more.
      const refused = images.filter((i) => i.fs.listSync(DIR).every((n) => n.endsWith(".restoring")));
      for (const image of refused.slice(0, 3)) await finishes(image.fs, a, range, image.at);
    });

    it(`${variant.name}: its file system failing at any call leaves it refused, at every crash image too`, async () => {
      const a = await archive();
      const range = variant.rerun(a);
      const { fence, events } = expectedOf(a, range);
      let failures = 0;
      for (const op of ["open", "truncate", "write", "sync", "close", "syncDir", "unlink", "rename"] as const) {
        for (let skip = 0; skip < 200; skip++) {
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
          if (fault.hits === 0) {
            expect(failure, at).toBeUndefined();
            break;
          }
          failures++;
          expect(isWalError(failure) ? failure.code : String(failure), at).toBe("WAL_IO");
          expect(await opened(fs, fence, events, at)).not.toBe("whole");
          for (const image of images) await opened(image.fs, fence, events, image.at);
          await finishes(fs, a, range, at);
        }
      }
      expect(failures).toBeGreaterThan(20);
    });

    it(`${variant.name}: a corrupt object, an abort, or a throwing onProgress at any point leaves it refused`, async () => {
      const a = await archive();
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
