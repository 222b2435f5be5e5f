/**
 * A failed restore whose undo leaves files says which ones and what to do, whatever it failed with: a later restore
 * refuses the directory until it is emptied, so the caller must learn that, not only why the restore failed. A
 * failure that is not a `WalError` (a file-system seam that throws a plain `Error`) is thrown as `WAL_IO` with it as
 * the cause and the advice in the message. (From a review: with such a failure the advice was left off, on both
 * undo paths: renaming back into a directory that held a restore's leftovers, and removing from one that did not.)
 * What a callback threw and the signal's reason still pass through as they are (restore-undo-left.test.ts).
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

/** `sim` with `op` throwing a plain `Error` from its `from`-th call on (counting from 1) while `broken()` says so. */
function seamThatThrows(sim: SimFS, op: "rename" | "unlink", from: number): WalFileSystem {
  let calls = 0;
  return new Proxy(sim, {
    get(target, property) {
      if (property === op) {
        return async (...args: [string, string]) => {
          if (++calls >= from) throw new Error(`the seam broke at ${op} #${calls}`);
          return (target[op] as (...a: string[]) => Promise<void>).apply(target, args);
        };
      }
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  }) as WalFileSystem;
}

it("into a restore's leftovers, a plain Error at the second rename, whose undo fails too: WAL_IO naming the segment left in place, as the advice says", async () => {
  const { fs, store, events } = await unfinishedRestore(DIR, 24);
  const failure = await restore({ store, dir: DIR, fs: seamThatThrows(fs, "rename", 2) }).catch((e: unknown) => e);
  const inPlace = fs.listSync(DIR).filter((n) => n.endsWith(".wal"));
  expect(inPlace).toHaveLength(1);
  expect(isWalError(failure, "WAL_IO")).toBe(true);
  expect((failure as Error).cause).toBeInstanceOf(Error);
  expect(((failure as Error).cause as Error).message).toBe("the seam broke at rename #2");
  expect((failure as Error).message).toContain("the seam broke at rename #2");
  expect((failure as Error).message).toContain(
    `restore could not undo its renames: 1 segment(s) are left in place in ${DIR} (${inPlace[0]}) beside .restoring files`,
  );
  // As the advice says: empty it and restore into it again.
  for (const n of fs.listSync(DIR)) await fs.unlink(`${DIR}/${n}`);
  await restore({ store, dir: DIR, fs });
  const { wal, events: got } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec });
  expect(got).toEqual(events);
  await wal.close();
});

it("into an empty directory, a plain Error at a rename whose removals fail too: WAL_IO naming the files left", async () => {
  const sim = new SimFS();
  const store = memoryArchive();
  await archivedLog(sim, store, { commits: 30 });
  sim.mkdirpSync(DIR);
  sim.injectFault({ op: "unlink", path: /^\/r\//, errno: "EIO", persistent: true });
  const failure = await restore({ store, dir: DIR, fs: seamThatThrows(sim, "rename", 2) }).catch((e: unknown) => e);
  const left = sim.listSync(DIR);
  expect(left.length).toBeGreaterThan(0);
  expect(isWalError(failure, "WAL_IO")).toBe(true);
  expect(((failure as Error).cause as Error).message).toBe("the seam broke at rename #2");
  expect((failure as Error).message).toContain(`file(s) are left in ${DIR} (`);
  expect((failure as Error).message).toContain("remove them before restoring into it again");
});

it("a plain Error whose undo leaves nothing is thrown as it is", async () => {
  const { fs, store } = await unfinishedRestore(DIR, 24);
  // The first forward rename fails: nothing was renamed, nothing to undo, every .restoring file stays.
  const failure = await restore({ store, dir: DIR, fs: seamThatThrows(fs, "rename", 1) }).catch((e: unknown) => e);
  expect(isWalError(failure)).toBe(false);
  expect((failure as Error).message).toBe("the seam broke at rename #1");
});
