/**
 * A failed restore looks with `stat` while it undoes what it wrote: whether a segment it could not remove is still
 * there, and which files are left for its message. A seam whose `stat` throws then must not cost the log or the
 * failure: the restore still rejects with its own failure (code, details and cause kept), a segment whose removal
 * failed and whose presence cannot be read counts as there, so the undo stops before removing anything newer (never
 * the oldest segments without the newest: a shorter log that opens as whole), and the message says which files could
 * not be looked at, not that they are left.
 */

import { Wal } from "@lora/wal";
import { isWalError, type JsonValue, jsonCodec } from "@lora/wal-codec";
import type { WalFileSystem } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { memoryArchive } from "./memory-archive.js";
import { restore } from "./restore.js";
import { archivedLog } from "./test-support/archived-log.js";
import { unfinishedRestore } from "./test-support/unfinished-restore.js";

const DIR = "/r";

/** `sim` with a `stat` that throws a plain `Error` while `broken(path)` says so. */
function statThrowing(sim: SimFS, broken: (path: string) => boolean): WalFileSystem {
  return new Proxy(sim, {
    get(target, property) {
      if (property === "stat") {
        return (path: string) =>
          broken(path) ? Promise.reject(new Error(`stat broke on ${path}`)) : target.stat(path);
      }
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  }) as WalFileSystem;
}

async function opened(sim: SimFS): Promise<JsonValue[] | string> {
  try {
    const { wal, events } = await Wal.open<JsonValue>(DIR, { fs: sim.clone(), codec: jsonCodec });
    await wal.close();
    return events;
  } catch (error) {
    return isWalError(error) ? error.code : String(error);
  }
}

/**
 * A restore into DIR whose caller gives up (its `onProgress` throws) once every segment is in place; from then on,
 * the undo, the seam's `stat` throws.
 */
async function restoreGivingUp(store: ReturnType<typeof memoryArchive>, sim: SimFS) {
  let undoing = false;
  const thrown = new Error("the caller gives up");
  const failure = await restore({
    store,
    dir: DIR,
    fs: statThrowing(sim, () => undoing),
    onProgress: (p) => {
      if (!p.done) return;
      undoing = true;
      throw thrown;
    },
  }).catch((e: unknown) => e);
  return { failure, thrown };
}

it("a segment it cannot remove, nor stat, stops the undo: the newer ones stay, the log opens whole", async () => {
  const sim = new SimFS();
  const store = memoryArchive();
  const lsns = await archivedLog(sim, store, { commits: 30 });
  const events = lsns.map((_, i) => ({ i }));
  const names = (await restore({ store, dir: "/ok", fs: sim.clone() })).segments;
  expect(names).toBeGreaterThan(2);
  // Every segment is in place when the callback throws; the undo removes them oldest first, and the oldest's removal
  // fails: whether it is still there is what stat, broken from then on, cannot say.
  const fault = sim.injectFault({ op: "unlink", path: /^\/r\/0000000001\.wal$/, errno: "EIO" });
  const { failure, thrown } = await restoreGivingUp(store, sim);
  expect(failure).toBe(thrown);
  expect(fault.hits).toBe(1);
  sim.clearFaults();
  expect(sim.listSync(DIR).filter((n) => n.endsWith(".wal"))).toHaveLength(names);
  expect(await opened(sim)).toEqual(events);
});

it("files it removed but cannot stat are named as unknown, not as left, and the failure keeps its code", async () => {
  const sim = new SimFS();
  const store = memoryArchive();
  await archivedLog(sim, store, { commits: 30 });
  // The oldest segment is fetched last and is damaged: the newer ones are temporary files by then.
  const oldest = (await store.list("segments/")).map((o) => o.key).sort()[0] as string;
  store.corrupt(oldest);
  let undoing = false;
  sim.onOperation((e) => {
    if (e.op === "unlink" && e.path.endsWith(".restoring")) undoing = true;
  });
  const failure = await restore({ store, dir: DIR, fs: statThrowing(sim, () => undoing) }).catch((e: unknown) => e);

  // Everything it wrote is removed, and the directory it created with it.
  expect(await sim.stat(DIR)).toBeNull();
  expect(failure).toMatchObject({ code: "WAL_ARCHIVE_CORRUPT", details: { object: oldest } });
  const message = (failure as Error).message;
  expect(message).not.toContain("are left");
  expect(message).toMatch(
    /; restore could not tell whether it removed what it wrote: reading \d+ file\(s\) in \/r failed \(\d+\.wal\.restoring.*\): stat broke on \/r\/\d+\.wal\.restoring; remove any of them still there before restoring into it again$/,
  );
  // Nothing in the way of the next restore.
  const retried = await restore({ store: memoryArchive(), dir: DIR, fs: sim }).catch((e: unknown) => e);
  expect(retried).toMatchObject({ code: "WAL_ARCHIVE_MISSING" });
});

it("files left and files it cannot stat are named apart, and the directory stays", async () => {
  const sim = new SimFS();
  const store = memoryArchive();
  await archivedLog(sim, store, { commits: 30 });
  const oldest = (await store.list("segments/")).map((o) => o.key).sort()[0] as string;
  store.corrupt(oldest);
  const stuck = "/r/0000000002.wal.restoring";
  sim.injectFault({ op: "unlink", path: new RegExp(`^${stuck}$`), errno: "EACCES", persistent: true });
  let undoing = false;
  sim.onOperation((e) => {
    if (e.op === "unlink" && e.path.endsWith(".restoring")) undoing = true;
  });
  const fs = statThrowing(sim, (path) => undoing && path !== stuck);
  const failure = await restore({ store, dir: DIR, fs }).catch((e: unknown) => e);

  expect(sim.listSync(DIR)).toEqual(["0000000002.wal.restoring"]);
  expect(failure).toMatchObject({ code: "WAL_ARCHIVE_CORRUPT", details: { object: oldest } });
  expect((failure as Error).message).toMatch(
    /; restore could not remove what it wrote: 1 file\(s\) are left in \/r \(0000000002\.wal\.restoring\), and reading \d+ more file\(s\) in \/r failed \(0000000003\.wal\.restoring, .*\): stat broke on \/r\/\d+\.wal\.restoring; remove them, and any of the others still there, before restoring into it again$/,
  );
});

it("into a restore's leftovers, a successor it cannot remove, nor stat, stops the undo of its renames: all in place", async () => {
  const { fs: sim, store } = await unfinishedRestore(DIR, 24);
  // Sealed objects only: the newest restored segment is sealed, so the restore creates its empty successor, which its
  // undo removes first.
  for (const key of store.keys()) if (key.startsWith("partial/")) store.remove(key);
  const clean = new SimFS();
  await restore({ store, dir: DIR, fs: clean });
  const events = await opened(clean);
  expect(Array.isArray(events) && events.length > 0).toBe(true);
  const fault = sim.injectFault({ op: "unlink", path: /^\/r\/\d+\.wal$/, errno: "EIO" });
  const { failure, thrown } = await restoreGivingUp(store, sim);
  expect(failure).toBe(thrown);
  expect(fault.hits).toBe(1);
  sim.clearFaults();
  // Nothing renamed back past the successor: the restored log, whole, with no `.restoring` file beside it.
  expect(sim.listSync(DIR).sort()).toEqual(clean.listSync(DIR).sort());
  expect(await opened(sim)).toEqual(events);
});
