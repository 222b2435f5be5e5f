/**
 * Finishing a restore that did not finish, to an earlier LSN: the segment cut at `toLsn` is written over the
 * leftover of the same name, which is longer (it holds the whole segment). The leftover is cut to 0 before the bytes
 * are written, so the restored segment ends at `toLsn`'s record, not with the leftover's later records after it.
 */

import { Wal } from "@lora/wal";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { memoryArchive } from "./memory-archive.js";
import { restore } from "./restore.js";
import { archivedLog } from "./test-support/archived-log.js";

it("a segment cut at toLsn over a longer leftover holds exactly the records up to toLsn", async () => {
  const store = memoryArchive();
  const lsns = await archivedLog(new SimFS(), store, { commits: 6, segmentTargetBytes: 4096 });
  const fs = new SimFS();
  await restore({ store, dir: "/r", fs });
  const names = fs.listSync("/r").filter((n) => n.endsWith(".wal"));
  expect(names).toEqual(["0000000001.wal"]);
  const whole = fs.readFileSync("/r/0000000001.wal").byteLength;
  await fs.rename("/r/0000000001.wal", "/r/0000000001.wal.restoring");

  const result = await restore({ store, dir: "/r", toLsn: lsns[1] as number, fs });
  const restored = fs.readFileSync("/r/0000000001.wal");
  expect(restored.byteLength).toBe(result.bytes);
  expect(restored.byteLength).toBeLessThan(whole);
  const { wal, events } = await Wal.open<JsonValue>("/r", { fs, codec: jsonCodec });
  await wal.close();
  expect(events).toEqual([{ i: 0 }, { i: 1 }]);
});
