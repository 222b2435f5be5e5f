/**
 * `Wal.open` that finds a restore's `.restoring` files while the restore holds the lock, but finds the lock free when
 * it asks who holds it (the restore renamed its segments into place and let go in between), looks again instead of
 * reporting a restore that did not finish: the directory holds the restored log by then, and it opens. (From a
 * review: the open was refused `WAL_MALFORMED`, saying to run the restore again, which then refused the directory as
 * not empty.)
 */

import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { SimFS, wrapFileSystem } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { Wal } from "./wal.js";

const DIR = "/w";

it("a restore that finishes between the open's look and its probe of the lock: the open opens the restored log", async () => {
  const fs = new SimFS();
  const { wal } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec, segmentTargetBytes: 200 });
  for (let i = 0; i < 8; i++) await wal.commitTx([{ i }]);
  await wal.close();
  const segments = fs.listSync(DIR).filter((n) => n.endsWith(".wal"));
  expect(segments.length).toBeGreaterThan(1);
  // A restore part-way: its files not renamed into place yet, its lock held.
  for (const n of segments) await fs.rename(`${DIR}/${n}`, `${DIR}/${n}.restoring`);
  const release = fs.tryLock(`${DIR}/.lora-wal.lock`);
  expect(release).not.toBeNull();

  let finished = false;
  const opening = wrapFileSystem(fs, (f) => f, {
    readdir: async (path: string) => {
      const names = await fs.readdir(path);
      if (!finished && path === DIR) {
        // The restore renames its segments into place and lets go, right after this look.
        finished = true;
        for (const n of segments) await fs.rename(`${DIR}/${n}.restoring`, `${DIR}/${n}`);
        release?.();
      }
      return names;
    },
  });
  const opened = await Wal.open<JsonValue>(DIR, { fs: opening, codec: jsonCodec });
  await opened.wal.close();
  expect(finished).toBe(true);
  expect(opened.events).toEqual(Array.from({ length: 8 }, (_, i) => ({ i })));
});
