import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { type JsonValue, jsonCodec, type ReplayProgress, Wal } from "./index.js";

// A long open reports its progress: bytes and records of the retained log, at a rate bounded by bytes read.

describe("Wal.open onProgress", () => {
  it("reports monotone progress over every retained segment, at most once per MiB, ending at the total", async () => {
    const fs = new SimFS();
    const first = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs, segmentTargetBytes: 512 * 1024 });
    const pad = "x".repeat(2000);
    const commits = [];
    for (let i = 0; i < 1500; i++) commits.push(first.wal.commitTx([{ i, pad }]));
    await Promise.all(commits);
    await first.wal.sync();
    await first.wal.close();
    const calls: ReplayProgress[] = [];
    const { wal, events } = await Wal.open<JsonValue>("/w", {
      codec: jsonCodec,
      fs,
      onProgress: (p) => void calls.push(p),
    });
    expect(events.length).toBe(1500);
    const segments = await wal.segments();
    const total = segments.reduce((sum, s) => sum + s.bytes, 0);
    expect(total).toBeGreaterThan(2.5 * 1024 * 1024);
    const last = calls.at(-1);
    expect(last).toMatchObject({ bytes: total, totalBytes: total, done: true, records: 4500 });
    expect(calls.length).toBeGreaterThan(2);
    expect(calls.length).toBeLessThanOrEqual(Math.ceil(total / (1024 * 1024)) + 1);
    for (let i = 1; i < calls.length; i++) {
      expect(calls[i]?.bytes).toBeGreaterThanOrEqual(calls[i - 1]?.bytes as number);
      expect(calls[i]?.records).toBeGreaterThanOrEqual(calls[i - 1]?.records as number);
    }
    await wal.close();
  });

  it("refuses a non-function, and a callback that throws fails the open and releases the lock", async () => {
    const fs = new SimFS();
    const first = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs });
    await first.wal.commitTx([1]);
    await first.wal.close();
    await expect(
      Wal.open<JsonValue>("/w", { codec: jsonCodec, fs, onProgress: 5 as unknown as () => void }),
    ).rejects.toMatchObject({ code: "WAL_INVALID_OPTION" });
    const boom = new Error("progress callback failed");
    await expect(
      Wal.open<JsonValue>("/w", {
        codec: jsonCodec,
        fs,
        onProgress: () => {
          throw boom;
        },
      }),
    ).rejects.toBe(boom);
    const again = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs });
    expect(again.events).toEqual([1]);
    await again.wal.close();
  });
});
