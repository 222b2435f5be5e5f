import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { KvStore, SNAPSHOT_FILE } from "../src/index.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "kv-store-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("KvStore on the real file system", () => {
  test("put, get and delete, then recovery on open", async () => {
    const store = await KvStore.open(dir);
    await store.put("a", 1);
    await store.put("b", { nested: [true, null, "x"] });
    await store.put("a", 2);
    expect(await store.delete("b")).toBe(true);
    expect(await store.delete("missing")).toBe(false);
    expect(store.get("a")).toBe(2);
    expect(store.has("b")).toBe(false);
    await store.close();

    const reopened = await KvStore.open(dir);
    expect(reopened.toMap()).toEqual(new Map([["a", 2]]));
    await reopened.close();
  });

  test("checkpoint writes a snapshot, deletes covered segments, and recovery uses both", async () => {
    const store = await KvStore.open(dir, { segmentTargetBytes: 256 });
    for (let i = 0; i < 60; i++) await store.put(`k${i % 7}`, i);
    await store.delete("k3");
    const segmentsBefore = (await readdir(join(dir, "wal"))).filter((n) => n.endsWith(".wal")).length;
    const lsn = await store.checkpoint();
    expect(lsn).toBe(store.wal.nextLsn() - 2); // the marker took one LSN after the snapshot's
    const segmentsAfter = (await readdir(join(dir, "wal"))).filter((n) => n.endsWith(".wal")).length;
    expect(segmentsBefore).toBeGreaterThan(3);
    expect(segmentsAfter).toBeLessThan(segmentsBefore);
    expect(await readdir(dir)).toContain(SNAPSHOT_FILE);
    await store.put("after", "checkpoint");
    const expected = store.toMap();
    await store.close();

    const reopened = await KvStore.open(dir, { segmentTargetBytes: 256 });
    expect(reopened.toMap()).toEqual(expected);
    expect(reopened.has("k3")).toBe(false);
    // A second checkpoint over the first one.
    await reopened.checkpoint();
    await reopened.close();
    const again = await KvStore.open(dir);
    expect(again.toMap()).toEqual(expected);
    await again.close();
  });
});
