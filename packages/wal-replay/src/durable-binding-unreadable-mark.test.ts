/**
 * The durable mark is a hint: a walk that meets no damage never needs it. Read before the segments (so that a live
 * writer's mark cannot vouch for a write the walk saw torn), it must still not fail a walk of a healthy log when it
 * cannot be read: a LoraDB directory (no writer publishes a mark there) with an unreadable `.lora-wal.durable`
 * replays in full, as it did when the mark was looked at only at damage. At damage the error is still thrown (an
 * unreadable mark is never taken for "no binding").
 */

import { join } from "node:path";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { DURABLE_MARK_FILE } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { readCommitted } from "./read-committed.js";
import { replayDir } from "./replay.js";
import { evenLog, writeSimLog } from "./test-support/sim-log.js";

const DIR = "/lora";

async function logWithUnreadableMark(): Promise<SimFS> {
  const fs = SimFS.withDir("/");
  await writeSimLog(fs, DIR, evenLog(2, 3));
  fs.writeFileSync(join(DIR, DURABLE_MARK_FILE), new Uint8Array(76).fill(0x5a));
  fs.injectFault({ op: "open", path: join(DIR, DURABLE_MARK_FILE), errno: "EACCES", persistent: true });
  return fs;
}

describe("an unreadable durable mark and a walk of a healthy log", () => {
  it("replayDir delivers every transaction", async () => {
    const fs = await logWithUnreadableMark();
    const events: JsonValue[] = [];
    for await (const tx of replayDir<JsonValue>(DIR, { fs, codec: jsonCodec })) events.push(...tx.events);
    expect(events).toHaveLength(6);
  });

  it("readCommitted delivers every transaction", async () => {
    const fs = await logWithUnreadableMark();
    let count = 0;
    for await (const _ of readCommitted<JsonValue>(DIR, { fs, codec: jsonCodec })) count++;
    expect(count).toBe(6);
  });
});
