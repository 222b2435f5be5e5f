import { listSegments } from "@lora/wal-segment";
import { countingFileSystem, SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { type JsonValue, jsonCodec, type ReplayProgress, Wal } from "./index.js";

// `scanFrom: "fence"`: an open from a snapshot reads the segment holding the fence + 1 and those after it, and
// leaves the handle exactly as an open that read the whole log would.

/** A closed log of `n` one-event transactions over many small segments; the commit LSN of each. */
async function writeLog(fs: SimFS, n: number): Promise<number[]> {
  const { wal } = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs, segmentTargetBytes: 4096 });
  const commits: number[] = [];
  for (let i = 0; i < n; i++) commits.push((await wal.commitTx([{ i, pad: "p".repeat(40) }]))?.commitLsn as number);
  await wal.close();
  return commits;
}

describe("Wal.open with scanFrom: fence", () => {
  it("reads only from the segment holding the fence + 1 and replays what a whole-log open replays", async () => {
    const sim = new SimFS();
    const commits = await writeLog(sim, 400);
    const fence = commits[299] as number;
    const whole = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs: sim, checkpointLsn: fence });
    const segments = await whole.wal.segments();
    await whole.wal.close();
    expect(segments.length).toBeGreaterThan(10);

    const { fs, counts } = countingFileSystem(sim);
    const progress: ReplayProgress[] = [];
    const seek = await Wal.open<JsonValue>("/w", {
      codec: jsonCodec,
      fs,
      checkpointLsn: fence,
      scanFrom: "fence",
      onProgress: (p) => void progress.push(p),
    });
    expect(seek.events).toEqual(whole.events);
    expect(seek.events.map((e) => (e as { i: number }).i)).toEqual(Array.from({ length: 100 }, (_, k) => 300 + k));
    // The segments wholly at or below the fence: at most a header read each (the binary search).
    const below = segments.filter((_, k) => (segments[k + 1]?.baseLsn ?? Number.POSITIVE_INFINITY) <= fence + 1);
    expect(below.length).toBeGreaterThan(5);
    for (const s of below) expect(counts.bytesRead.get(s.path) ?? 0).toBeLessThanOrEqual(32);
    const readBytes = segments.filter((s) => !below.includes(s)).reduce((sum, s) => sum + s.bytes, 0);
    expect(progress.at(-1)).toMatchObject({ done: true, totalBytes: readBytes, bytes: readBytes });

    // The handle goes on as after a whole-log open: commits, a checkpoint at a boundary, a later open sees all.
    expect((await seek.wal.commitTx(["after"]))?.commitLsn).toBe((commits.at(-1) as number) + 3);
    await seek.wal.checkpoint(commits[349] as number);
    await seek.wal.close();
    const again = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs: sim, checkpointLsn: commits[349] as number });
    expect(again.events.length).toBe(51);
    expect(again.events.at(-1)).toBe("after");
    await again.wal.close();
  });

  it("cuts a torn tail as a whole-log open does", async () => {
    const sim = new SimFS();
    const commits = await writeLog(sim, 120);
    const path = (await listSegments(sim, "/w")).at(-1)?.path as string;
    sim.writeFileSync(path, new Uint8Array([...sim.readFileSync(path), 9, 9, 9, 9, 9]));
    const opened = await Wal.open<JsonValue>("/w", {
      codec: jsonCodec,
      fs: sim,
      checkpointLsn: commits[100] as number,
      scanFrom: "fence",
    });
    expect(opened.tornTail).toMatchObject({ segmentPath: path, droppedBytes: 5 });
    expect(opened.events.length).toBe(19);
    await opened.wal.close();
  });

  it("a fence inside a transaction begun in a segment it skips is WAL_FENCE_IN_TRANSACTION, as with the whole log", async () => {
    const sim = new SimFS();
    const { wal } = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs: sim, segmentTargetBytes: 4096 });
    for (let i = 0; i < 80; i++) await wal.commitTx([{ i, pad: "p".repeat(40) }]);
    // A low-level transaction stays open across rotations while commitTx goes on.
    const begin = await wal.begin();
    await wal.append(begin, "long");
    let inside = 0;
    for (let i = 0; i < 200; i++) inside = (await wal.commitTx([{ i, pad: "q".repeat(40) }]))?.commitLsn as number;
    await wal.commit(begin);
    await wal.close();
    const open = (scanFrom: "oldest" | "fence") =>
      Wal.open<JsonValue>("/w", { codec: jsonCodec, fs: sim, checkpointLsn: inside, scanFrom });
    const whole = await open("oldest").catch((e: unknown) => e);
    expect(whole).toMatchObject({ code: "WAL_FENCE_IN_TRANSACTION", details: { usableFence: begin - 1 } });
    await expect(open("fence")).rejects.toMatchObject({
      code: "WAL_FENCE_IN_TRANSACTION",
      details: { usableFence: begin - 1 },
    });
    // The failed opens released the lock.
    const fine = await Wal.open<JsonValue>("/w", {
      codec: jsonCodec,
      fs: sim,
      checkpointLsn: begin - 1,
      scanFrom: "fence",
    });
    expect(fine.events.length).toBe(201);
    await fine.wal.close();
    await expect(
      Wal.open<JsonValue>("/w", { codec: jsonCodec, fs: sim, scanFrom: "middle" as "fence" }),
    ).rejects.toMatchObject({ code: "WAL_INVALID_OPTION" });
  });
});
