/** Regressions for the findings of a second read of the handle (each failed before its fix). */

import { jsonCodec } from "@lora/wal-codec";
import { listSegments, SegmentWriter, segmentPath } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it, vi } from "vitest";
import { ev, useTempDirs } from "../test/support.js";
import { Wal } from "./wal.js";

const tempDir = useTempDirs();

describe("review fixes", () => {
  it("a sealed header still in the page cache is made durable before its successor is created", async () => {
    const fs = new SimFS();
    fs.mkdirpSync("/w");
    const writer = await SegmentWriter.create(fs, segmentPath("/w", 1), 1);
    writer.append({ kind: "txBegin", lsn: 1 }, jsonCodec);
    writer.append({ kind: "mutation", lsn: 2, txBeginLsn: 1, event: "a" }, jsonCodec);
    writer.append({ kind: "txCommit", lsn: 3, txBeginLsn: 1 }, jsonCodec);
    // seal(): the records' fdatasync passes, the header's fails (fsyncgate: the sealed header never becomes durable).
    fs.injectFault({ op: "datasync", errno: "EIO", skip: 1 });
    await expect(writer.seal()).rejects.toMatchObject({ code: "WAL_IO" });
    await writer.close();
    // A new process sees the sealed header in the page cache and heals by creating segment 2.
    const { wal, healed } = await Wal.open("/w", { fs, codec: jsonCodec });
    expect(healed.map((h) => h.kind)).toEqual(["sealedSegmentSucceeded"]);
    await wal.commitTx(["b"]); // acknowledged after an fdatasync
    // Power loss: only what was made durable survives. The log must open with both transactions.
    const { events, wal: after } = await Wal.open("/w", { fs: fs.durableImage(), codec: jsonCodec });
    expect(events).toEqual(["a", "b"]);
    await after.close();
    await wal.close();
  });

  it("truncateUpTo issued before close completes while the lock is still held; one issued after is refused", async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir, { segmentTargetBytes: 64 });
    for (let i = 0; i < 5; i++) await wal.commitTx([ev(i)]);
    const nodeFs = (await import("@lora/wal-segment")).createNodeFileSystem();
    const before = await listSegments(nodeFs, dir);
    const settled: string[] = [];
    const truncating = wal.truncateUpTo(wal.nextLsn() - 1).finally(() => settled.push("truncate"));
    const closing = wal.close().finally(() => settled.push("close"));
    const late = wal.truncateUpTo(1);
    const [t, , l] = await Promise.allSettled([truncating, closing, late]);
    expect(t).toMatchObject({ status: "fulfilled", value: before.length - 2 });
    expect(l).toMatchObject({ status: "rejected", reason: { code: "WAL_CLOSED" } });
    // The close waited for the truncation (which deletes under the lock) before it released the lock.
    expect(settled).toEqual(["truncate", "close"]);
    const after = await listSegments(nodeFs, dir);
    expect(after.map((s) => s.id)).toEqual(before.slice(-2).map((s) => s.id));
  });

  it("group mode: the flusher's timer holds the process open only while someone awaits whenDurable", async () => {
    const spy = vi.spyOn(globalThis, "setInterval");
    try {
      const fs = new SimFS();
      fs.mkdirpSync("/w");
      const { wal } = await Wal.open("/w", {
        fs,
        codec: jsonCodec,
        syncMode: { mode: "group", intervalMs: 3_600_000 },
      });
      const timer = spy.mock.results.at(-1)?.value as NodeJS.Timeout;
      expect(timer.hasRef()).toBe(false);
      const info = await wal.commitTx(["a"]);
      const durable = wal.whenDurable(info?.commitLsn ?? 0);
      await Promise.resolve();
      await Promise.resolve();
      expect(timer.hasRef()).toBe(true);
      await wal.sync();
      await durable;
      expect(timer.hasRef()).toBe(false);
      await wal.close();
    } finally {
      spy.mockRestore();
    }
  });

  it("a second cut at the same offset never overwrites the first recovery's .broken copy", async () => {
    const fs = new SimFS();
    fs.mkdirpSync("/w");
    const { wal } = await Wal.open("/w", { fs, codec: jsonCodec });
    await wal.commitTx(["a"]);
    await wal.close();
    const path = segmentPath("/w", 1);
    const copies = new Map<string, number[]>();
    for (const garbage of [
      [1, 2, 3, 4],
      [9, 9],
    ]) {
      fs.writeFileSync(path, Uint8Array.from([...fs.readFileSync(path), ...garbage]));
      const { wal: again, healed } = await Wal.open("/w", { fs, codec: jsonCodec });
      const cut = healed.find((h) => h.kind === "tornTailTruncated");
      if (cut?.kind === "tornTailTruncated" && cut.brokenCopy !== null) copies.set(cut.brokenCopy, garbage);
      await again.close();
    }
    expect(copies.size).toBe(2);
    for (const [copy, garbage] of copies) expect(Array.from(fs.readFileSync(copy))).toEqual(garbage);
  });
});
