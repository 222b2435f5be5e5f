/**
 * The change feed beside the real engine (`@loradb/lora-node`): LoraDB opens, writes and keeps a directory that holds
 * our durable mark and a `slots/` folder, and `followDir` follows a live LoraDB database (which publishes no durable
 * mark, so the follower syncs what it read itself before delivering it).
 */

import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { makeTempDir } from "@lora/test-utils";
import { createPropertyMap, loraCodec, type MutationEvent } from "@lora/wal-codec/lora";
import { openWalDatabase } from "@loradb/lora-node";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createSlot, followDir, listSlots, readCommitted, Wal } from "../src/index.js";

let tmp: Awaited<ReturnType<typeof makeTempDir>>;
let dir: string;
beforeEach(async () => {
  tmp = await makeTempDir("follow-lora");
  dir = join(tmp.path, "wal");
});
afterEach(async () => {
  await tmp.cleanup();
});

const node = (id: number): MutationEvent => {
  const properties = createPropertyMap();
  properties.n = BigInt(id);
  return { type: "CreateNode", id: BigInt(id), labels: ["Ours"], properties };
};

describe("the change feed beside LoraDB", () => {
  it("LoraDB ignores the durable mark and slots/, keeps them, and its commits reach a slot follower", async () => {
    const { wal } = await Wal.open(dir);
    await wal.commitTx([node(1)]);
    await wal.close();
    await createSlot(dir, "replica");
    const before = (await readdir(dir)).sort();
    expect(before).toEqual(expect.arrayContaining([".lora-wal.durable", "slots"]));

    const db = await openWalDatabase({ walDir: dir });
    const stop = new AbortController();
    try {
      expect((await db.execute("MATCH (n:Ours) RETURN count(n) AS c")).rows).toEqual([{ c: 1 }]);
      // A follower beside the live engine: it sees LoraDB's commits as they land.
      const follower = followDir<MutationEvent>(dir, {
        codec: loraCodec,
        slot: "replica",
        signal: stop.signal,
        pollIntervalMs: 20,
      });
      const first = await follower.next();
      expect(first.value?.events).toEqual([node(1)]);
      await follower.confirm(first.value?.commitLsn as number);
      await db.execute("CREATE (:FromLora {k: 7})");
      const second = await follower.next();
      expect(second.value?.events).toEqual([expect.objectContaining({ type: "CreateNode", labels: ["FromLora"] })]);
      await follower.confirm(second.value?.commitLsn as number);
      await follower.return();
    } finally {
      stop.abort();
      db.dispose();
    }
    // LoraDB left our files in place; the slot moved; the log opens here with LoraDB's commit.
    expect(await readdir(dir)).toEqual(expect.arrayContaining([".lora-wal.durable", "slots"]));
    const [slot] = await listSlots(dir);
    expect(slot?.name).toBe("replica");
    const all = [];
    for await (const tx of readCommitted(dir, { codec: loraCodec })) all.push(tx);
    expect(slot?.confirmedLsn).toBe(all.at(-1)?.commitLsn);
    const reopened = await Wal.open(dir);
    expect(reopened.events).toHaveLength(2);
    await reopened.wal.close();
  });
});
