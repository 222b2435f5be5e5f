/**
 * What a slot holds back is log, not preallocated zeros: beside a live writer the active segment's file runs
 * `preallocateBytes` of zeros past its records, and `lora-wal slots` used to count them, so a slot on a 707-byte log
 * held back "1.0 MiB" until the writer closed (close cuts the zeros) and 707 B after, for the same records. The
 * writer's own retention (`maxSlotRetainedBytes`) only ever counts sealed segments, whose zeros sealing cut off.
 */

import { stat } from "node:fs/promises";
import { join } from "node:path";
import { Wal } from "@lora/wal";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { describe, expect, it } from "vitest";
import type { SlotReport } from "../src/index.js";
import { runCli, segmentFiles, useJsonWal } from "./helpers.js";

async function listJson(dir: string): Promise<SlotReport> {
  const result = await runCli(["slots", dir, "--json"]);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as SlotReport;
}

/** File sizes of the segments of `dir`, oldest first. */
async function fileSizes(dir: string): Promise<number[]> {
  return await Promise.all((await segmentFiles(dir)).map(async (name) => (await stat(join(dir, name))).size));
}

/** The end of the last record of each segment, as `inspect` reads it (`ok, zeros after …` on a zero tail). */
async function recordEnds(dir: string): Promise<number[]> {
  const result = await runCli(["inspect", dir, "--codec", "json", "--json"]);
  const report = JSON.parse(result.stdout) as { segments: { endOffset: number }[] };
  return report.segments.map((s) => s.endOffset);
}

const sum = (ns: readonly number[]) => ns.reduce((a, b) => a + b, 0);

describe("what lora-wal slots says a slot holds back", () => {
  let dir: string;
  useJsonWal("lora-wal-slots-live", {}, (wal) => {
    dir = wal.dir;
  });

  it("beside a live writer: the log's bytes, not the zeros the active segment preallocates", async () => {
    const { wal } = await Wal.open<JsonValue>(dir, { codec: jsonCodec });
    let live: SlotReport;
    let text: string;
    try {
      for (let k = 0; k < 5; k++) await wal.commitTx([{ k, pad: "x".repeat(40) }, k]);
      expect((await runCli(["slots", dir, "create", "all"])).code).toBe(0);
      const [file] = await fileSizes(dir);
      const [logEnd] = await recordEnds(dir);
      // The case: one segment whose file is mostly zeros ahead of its records.
      expect(file as number).toBeGreaterThan(1 << 20);
      expect(logEnd as number).toBeLessThan(1024);
      live = await listJson(dir);
      expect(live.slots[0]).toMatchObject({ name: "all", heldBackBytes: logEnd, heldBackSegments: 1 });
      expect(live.bytes).toBe(logEnd);
      text = (await runCli(["slots", dir])).stdout;
      expect(text).toContain(`${logEnd} bytes, 1 segment`);
    } finally {
      await wal.close();
    }
    // Closing cuts the zeros off and changes no record: the same log, the same figures.
    expect(await fileSizes(dir)).toEqual([live.bytes]);
    const closed = await listJson(dir);
    expect(closed.slots[0]?.heldBackBytes).toBe(live.slots[0]?.heldBackBytes);
    expect(closed.bytes).toBe(live.bytes);
    expect((await runCli(["slots", dir])).stdout).toBe(text);
  });

  it("sealed segments count whole (their files hold only records), the live one up to its last record", async () => {
    const { wal } = await Wal.open<JsonValue>(dir, { codec: jsonCodec, segmentTargetBytes: 1024 });
    try {
      for (let k = 0; k < 30; k++) await wal.commitTx([{ k, pad: "x".repeat(40) }, k]);
      expect((await runCli(["slots", dir, "create", "all"])).code).toBe(0);
      expect((await runCli(["slots", dir, "create", "tip", "--at", "90"])).code).toBe(0);
      const files = await fileSizes(dir);
      const ends = await recordEnds(dir);
      expect(files.length).toBeGreaterThan(2);
      // Every sealed segment's file ends at its last record; only the active one has zeros after it.
      expect(files.slice(0, -1)).toEqual(ends.slice(0, -1));
      expect(files.at(-1) as number).toBeGreaterThan(ends.at(-1) as number);
      const report = await listJson(dir);
      expect(report.bytes).toBe(sum(ends));
      expect(report.slots.map((s) => [s.name, s.heldBackBytes, s.heldBackSegments])).toEqual([
        ["all", sum(ends), files.length],
        ["tip", ends.at(-1), 1],
      ]);
    } finally {
      await wal.close();
    }
  });
});
