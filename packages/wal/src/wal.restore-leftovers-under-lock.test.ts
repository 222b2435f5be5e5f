/**
 * `Wal.open` looks for a restore's leftovers before it takes the directory lock (so that it creates nothing in such a
 * directory), and again under the lock: a restore that ran and died between that first look and the lock left its
 * `*.restoring` files, which the open still refuses (`WAL_MALFORMED`), creating no segment beside them. And while a
 * restore holds the lock over its files, the open is refused as locked, not as a restore that did not finish.
 */

import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { withTestingHooks } from "./testing/index.js";
import { Wal } from "./wal.js";

const DIR = "/w";
const LEFTOVER = `${DIR}/0000000001.wal.restoring`;

it("a restore's leftovers that appear after the first look and before the lock are refused under the lock, and no segment is created", async () => {
  const fs = new SimFS();
  fs.mkdirpSync(DIR);
  const opened = Wal.open<JsonValue>(
    DIR,
    withTestingHooks(
      { fs, codec: jsonCodec },
      {
        failpoint: (name) => {
          if (name === "lock.afterAcquire") fs.writeFileSync(LEFTOVER, new Uint8Array([1, 2, 3]));
        },
      },
    ),
  );
  await expect(opened).rejects.toMatchObject({ code: "WAL_MALFORMED", details: { path: DIR } });
  expect(fs.listSync(DIR)).toEqual(["0000000001.wal.restoring"]);
  // The lock was released: another open gets as far as the same refusal.
  await expect(Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec })).rejects.toMatchObject({ code: "WAL_MALFORMED" });
});

it("leftovers under a lock someone holds are refused WAL_LOCKED (a restore writing them), changing nothing", async () => {
  const fs = new SimFS();
  fs.writeFileSync(LEFTOVER, new Uint8Array([1, 2, 3]));
  const release = fs.tryLock(`${DIR}/.lora-wal.lock`);
  expect(release).not.toBeNull();
  await expect(Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec })).rejects.toMatchObject({ code: "WAL_LOCKED" });
  expect(fs.listSync(DIR)).toEqual(["0000000001.wal.restoring"]);
  release?.();
  await expect(Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec })).rejects.toMatchObject({ code: "WAL_MALFORMED" });
});
