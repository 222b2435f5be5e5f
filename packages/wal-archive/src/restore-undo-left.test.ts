/**
 * A failed restore that cannot remove what it wrote says so: a later restore into the same directory is refused
 * until it is empty, so the caller has to learn which files are left, not only why the restore failed. The failure
 * keeps its code (the CLI's exit status and callers' handling depend on it); errors not ours pass through as they are.
 */

import { isWalError, WalError } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { memoryArchive } from "./memory-archive.js";
import { restore } from "./restore.js";
import { archivedLog } from "./test-support/archived-log.js";

/** A restore whose last progress call throws `thrown`, once every segment is in place. */
function failingRestore(
  sim: SimFS,
  store: ReturnType<typeof memoryArchive>,
  thrown: unknown = new Error("the caller gives up"),
): Promise<unknown> {
  return restore({
    store,
    dir: "/r",
    fs: sim,
    onProgress: (p) => {
      if (p.done) throw thrown;
    },
  }).then(
    () => null,
    (error: unknown) => error,
  );
}

/**
 * A restore aborted with `reason` once its first segment is renamed into place, every removal failing: the log of
 * 30 commits it restores, and what it rejected with.
 */
async function abortedAtFirstRename(
  reason: unknown,
): Promise<{ sim: SimFS; store: ReturnType<typeof memoryArchive>; failure: unknown }> {
  const sim = new SimFS();
  const store = memoryArchive();
  await archivedLog(sim, store, { commits: 30 });
  const controller = new AbortController();
  sim.onOperation((event) => {
    if (event.op === "rename" && event.to?.endsWith(".wal")) controller.abort(reason);
  });
  sim.injectFault({ op: "unlink", path: /^\/r\/.*\.wal$/, errno: "EIO" });
  const failure = await restore({ store, dir: "/r", fs: sim, signal: controller.signal }).then(
    () => null,
    (error: unknown) => error,
  );
  return { sim, store, failure };
}

it("a removal that fails while undoing keeps the failure's code, details and cause, its message naming the files left", async () => {
  const sim = new SimFS();
  const store = memoryArchive();
  await archivedLog(sim, store, { commits: 30 });
  // Only sealed objects: the newest restored segment is sealed, so the restore creates its empty successor last.
  for (const key of store.keys()) if (key.startsWith("partial/")) store.remove(key);
  const successorName = (await restore({ store, dir: "/ok", fs: sim })).successor?.split("/").at(-1) as string;
  // Every segment is in place when the successor's creation fails; segments go oldest first when undone and the
  // second removal fails, so every segment but the oldest stays.
  sim.injectFault({ op: "open", errno: "EMFILE", path: new RegExp(`^/r/${successorName}$`) });
  const fault = sim.injectFault({ op: "unlink", path: /^\/r\/\d+\.wal$/, skip: 1, errno: "EIO" });

  const failure = await restore({ store, dir: "/r", fs: sim }).then(
    () => null,
    (error: unknown) => error,
  );

  expect(fault.hits).toBe(1);
  const left = sim.listSync("/r").filter((name) => name.endsWith(".wal"));
  expect(left.length).toBeGreaterThan(1);
  // The code, details and cause of the failure itself, as when nothing is left: callers and exit codes rely on them.
  expect(isWalError(failure, "WAL_IO")).toBe(true);
  expect(failure).toMatchObject({ details: { errno: "EMFILE" }, cause: { code: "EMFILE" } });
  const message = (failure as Error).message;
  expect(message).toContain("EMFILE");
  expect(message).toContain(`${left.length} file(s) are left in /r (${left.slice(0, 5).join(", ")}`);
  // The failure's own message, then once what is left and what to do about it.
  const named = `${left.slice(0, 5).join(", ")}${left.length > 5 ? ", ..." : ""}`;
  expect(message).toBe(
    `open failed on /r/${successorName}: EMFILE: too many open files, open '/r/${successorName}'; restore could not remove what it wrote: ${left.length} file(s) are left in /r (${named}), remove them before restoring into it again`,
  );

  // What it says is what a retry needs: refused while the files are there, whole once they are removed.
  await expect(restore({ store, dir: "/r", fs: sim })).rejects.toMatchObject({ code: "WAL_INVALID_OPTION" });
  for (const name of sim.listSync("/r")) await sim.unlink(`/r/${name}`);
  const retried = await restore({ store, dir: "/r", fs: sim });
  expect(retried.segments).toBeGreaterThan(1);
});

it("a temporary file that cannot be removed is named too, and the archive's error keeps its code", async () => {
  const sim = new SimFS();
  const store = memoryArchive();
  await archivedLog(sim, store, { commits: 30 });
  // The oldest segment is fetched last and is damaged: the newer ones are temporary files by then.
  const oldest = (await store.list("segments/")).map((o) => o.key).sort()[0] as string;
  store.corrupt(oldest);
  sim.injectFault({ op: "unlink", path: /\.restoring$/, errno: "EACCES" });

  const failure = await restore({ store, dir: "/r", fs: sim }).then(
    () => null,
    (error: unknown) => error,
  );

  const left = sim.listSync("/r");
  expect(left).toHaveLength(1);
  expect(left[0]).toMatch(/\.restoring$/);
  expect(failure).toMatchObject({ code: "WAL_ARCHIVE_CORRUPT", details: { object: oldest } });
  expect((failure as Error).message).toContain(`1 file(s) are left in /r (${left[0]})`);
});

it("what a callback threw is thrown as it is, even when files are left", async () => {
  const sim = new SimFS();
  const store = memoryArchive();
  await archivedLog(sim, store, { commits: 30 });
  sim.injectFault({ op: "unlink", path: /^\/r\/\d+\.wal$/, skip: 1, errno: "EIO" });
  const failure = await failingRestore(sim, store);
  expect(sim.listSync("/r").some((name) => name.endsWith(".wal"))).toBe(true);
  expect(isWalError(failure)).toBe(false);
  expect((failure as Error).message).toBe("the caller gives up");
});

it("a failure whose undo leaves nothing is thrown as it is", async () => {
  const sim = new SimFS();
  const store = memoryArchive();
  await archivedLog(sim, store, { commits: 30 });
  const failure = await failingRestore(sim, store);
  expect(failure).toBeInstanceOf(Error);
  expect(isWalError(failure)).toBe(false);
  expect((failure as Error).message).toBe("the caller gives up");
});

it("an aborted restore still rejects with the signal's reason when its undo leaves files (as `signal` promises)", async () => {
  const reason = new DOMException("the caller gives up", "AbortError");
  // Aborted once the first segment is renamed into place; its removal then fails, so it stays.
  const { sim, store, failure } = await abortedAtFirstRename(reason);

  expect(sim.listSync("/r").some((name) => name.endsWith(".wal"))).toBe(true);
  expect(failure).toBe(reason);
  // What is left is still named, by the refusal of the next restore into it.
  await expect(restore({ store, dir: "/r", fs: sim })).rejects.toMatchObject({
    code: "WAL_INVALID_OPTION",
    message: expect.stringMatching(/is not empty \(\d+ entr(y|ies): .*\.wal/),
  });
});

it("a signal's reason or a callback's throw that is itself a WalError is still thrown as it is when files are left", async () => {
  // A caller that stops its restore with an error of ours (its log was closed meanwhile, say).
  const reason = new WalError("WAL_CLOSED", "the log was closed");
  const { sim, failure: aborted } = await abortedAtFirstRename(reason);
  expect(sim.listSync("/r").some((name) => name.endsWith(".wal"))).toBe(true);
  expect(aborted).toBe(reason);

  const sim2 = new SimFS();
  const store2 = memoryArchive();
  await archivedLog(sim2, store2, { commits: 30 });
  sim2.injectFault({ op: "unlink", path: /^\/r\/\d+\.wal$/, skip: 1, errno: "EIO" });
  const thrown = new WalError("WAL_CLOSED", "the caller's log was closed");
  const failure = await failingRestore(sim2, store2, thrown);
  expect(sim2.listSync("/r").some((name) => name.endsWith(".wal"))).toBe(true);
  expect(failure).toBe(thrown);
});
