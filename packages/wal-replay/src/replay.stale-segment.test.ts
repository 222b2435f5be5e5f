/**
 * Regression (found by apps/torture Tier C): an old, unsealed version of a sealed segment restored under a newer
 * segment replayed without complaint, silently dropping the records the newer version held.
 */

import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { SegmentWriter } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { replayDir } from "./replay.js";

async function tx(w: SegmentWriter, begin: number, event: string): Promise<void> {
  w.append<JsonValue>({ kind: "txBegin", lsn: begin }, jsonCodec);
  w.append<JsonValue>({ kind: "mutation", lsn: begin + 1, txBeginLsn: begin, event }, jsonCodec);
  w.append<JsonValue>({ kind: "txCommit", lsn: begin + 2, txBeginLsn: begin }, jsonCodec);
  await w.flush();
}

it("an unsealed segment followed by a newer one is corruption, never a shorter history", async () => {
  const fs = new SimFS();
  fs.mkdirpSync("/w");
  const one = await SegmentWriter.create(fs, "/w/0000000001.wal", 1);
  await tx(one, 1, "a");
  const old = fs.readFileSync("/w/0000000001.wal");
  await tx(one, 4, "b");
  await one.seal();
  await one.close();
  const two = await SegmentWriter.create(fs, "/w/0000000002.wal", 7);
  await tx(two, 7, "c");
  await two.close();

  const events = async () => {
    const out: JsonValue[] = [];
    for await (const t of replayDir("/w", { codec: jsonCodec, fs })) out.push(...t.events);
    return out;
  };
  expect(await events()).toEqual(["a", "b", "c"]);
  fs.writeFileSync("/w/0000000001.wal", old); // an old version restored: unsealed, without "b"
  await expect(events()).rejects.toMatchObject({ code: "WAL_CORRUPT" });
});
