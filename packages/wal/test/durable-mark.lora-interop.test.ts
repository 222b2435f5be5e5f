/**
 * The durable mark binds to the bytes it vouches for, and LoraDB's engine (`@loradb/lora-node`) ignores the file: a
 * log LoraDB wrote under a mark this library left (the segments removed, the mark kept) must not be judged by it. A
 * torn write in LoraDB's log, below where the old mark's record was, is still cut as a torn tail with every commit
 * before it; the binding of a log this library wrote makes the same damage corruption.
 */

import { readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { makeTempDir } from "@lora/test-utils";
import { createPropertyMap } from "@lora/wal-codec/lora";
import { createNodeFileSystem, readDurableMark } from "@lora/wal-segment";
import { openWalDatabase } from "@loradb/lora-node";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Wal } from "../src/index.js";

let tmp: Awaited<ReturnType<typeof makeTempDir>>;
beforeEach(async () => {
  tmp = await makeTempDir("wal-durable-mark-interop");
});
afterEach(async () => {
  await tmp.cleanup();
});

const segments = async (dir: string) => (await readdir(dir)).filter((n) => n.endsWith(".wal")).sort();

describe("a durable mark left behind under LoraDB's log", () => {
  it("does not vouch for LoraDB's bytes: a torn write below its old record is cut as a torn tail", async () => {
    const dir = join(tmp.path, "wal");
    const { wal } = await Wal.open(dir);
    for (let i = 0; i < 5; i++) {
      await wal.commitTx([{ type: "CreateNode", id: BigInt(i), labels: ["Old"], properties: createPropertyMap() }]);
    }
    await wal.close();
    const binding = (await readDurableMark(createNodeFileSystem(), dir))?.binding;
    expect(binding).toMatchObject({ segmentId: 1 });
    const boundEnd = (binding?.recordOffset ?? 0) + (binding?.recordBytes ?? 0);

    // The log reset by hand (its segments removed, the hidden mark kept), then written by LoraDB.
    for (const name of await segments(dir)) await rm(join(dir, name));
    const db = await openWalDatabase({ walDir: dir });
    for (let i = 0; i < 40; i++) await db.execute(`CREATE (:Lora {i: ${i}, pad: "${"p".repeat(40)}"})`);
    db.dispose();
    // LoraDB wrote segment 1 again, and left the mark as it was: its binding names a record of segment 1.
    expect(await segments(dir)).toContain("0000000001.wal");
    expect((await readDurableMark(createNodeFileSystem(), dir))?.binding).toEqual(binding);
    const path = join(dir, "0000000001.wal");
    const bytes = await readFile(path);
    expect(bytes.byteLength).toBeGreaterThan(boundEnd + 200);

    // A torn write: one stretch below the old mark's record never landed, the bytes after it did.
    const hole = boundEnd - 60;
    bytes.fill(0, hole, hole + 40);
    await writeFile(path, bytes);
    const opened = await Wal.open(dir);
    expect(opened.healed).toMatchObject([{ kind: "tornTailTruncated" }]);
    expect(opened.tornTail?.offset).toBeLessThanOrEqual(hole);
    await opened.wal.close();
  });
});
