/**
 * Into a restore's leftovers, a restore that fails after its first rename renames its segments back to their
 * `.restoring` names; when one of those renames fails, a failure of its own is given the advice to empty the
 * directory (restore-undo-advice-any-failure.test.ts). The signal's reason and what `onProgress` threw are not the
 * restore's failures: they are rethrown as they are, the very values (`signal`: "rejects with the signal's reason"),
 * and what is left is named by the next restore's refusal.
 */

import type { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { restore } from "./restore.js";
import { unfinishedRestore } from "./test-support/unfinished-restore.js";

const DIR = "/r";

/** Every rename in `dir` after the first `forward` ones (those into place) fails: the renames back. */
function renamesBackFail(fs: SimFS, forward: number) {
  return fs.injectFault({ op: "rename", path: /^\/r\//, skip: forward, errno: "EIO", persistent: true });
}

async function refusedNaming(fs: SimFS, store: Parameters<typeof restore>[0]["store"]) {
  await expect(restore({ store, dir: DIR, fs })).rejects.toMatchObject({
    code: "WAL_INVALID_OPTION",
    message: expect.stringMatching(/is not empty \(\d+ entr(y|ies): .*\.wal/),
  });
}

it("the signal's reason, aborting after the first rename, is rethrown as it is when the renames cannot be undone", async () => {
  const { fs, store } = await unfinishedRestore(DIR, 24);
  const reason = new DOMException("the caller gives up", "AbortError");
  const controller = new AbortController();
  fs.onOperation((event) => {
    if (event.op === "rename" && event.to?.endsWith(".wal")) controller.abort(reason);
  });
  // Aborted during the first rename into place (the newest segment's): the next one is not begun.
  const fault = renamesBackFail(fs, 1);
  const failure = await restore({ store, dir: DIR, fs, signal: controller.signal }).catch((e: unknown) => e);
  expect(fault.hits).toBe(1);
  expect(fs.listSync(DIR).filter((n) => n.endsWith(".wal"))).toHaveLength(1);
  expect(failure).toBe(reason);
  await refusedNaming(fs, store);
});

it("what onProgress threw, once every segment is in place, is rethrown as it is when the renames cannot be undone", async () => {
  const { fs, store } = await unfinishedRestore(DIR, 24);
  const thrown = new Error("the caller gives up");
  const segments = fs.listSync(DIR).filter((n) => n.endsWith(".wal.restoring")).length;
  expect(segments).toBeGreaterThan(1);
  const fault = renamesBackFail(fs, segments);
  const failure = await restore({
    store,
    dir: DIR,
    fs,
    onProgress: (p) => {
      if (p.done) throw thrown;
    },
  }).catch((e: unknown) => e);
  expect(fault.hits).toBe(1);
  expect(fs.listSync(DIR).filter((n) => n.endsWith(".wal")).length).toBeGreaterThan(1);
  expect(failure).toBe(thrown);
  await refusedNaming(fs, store);
});
