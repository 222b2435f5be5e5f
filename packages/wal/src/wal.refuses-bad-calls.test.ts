/**
 * No call can brick the log: every call that replay would reject, or that would lose history, is refused with a
 * code and changes nothing, and open never drops history silently. Each case below made the log unopenable (or lost
 * acknowledged commits silently) before the handle checked it.
 */

import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { RECOVERY_MODES } from "@lora/wal-replay";
import { listSegments } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { txOpenAcrossRotations } from "./test-support/tx-open-across-rotations.js";
import { Wal } from "./wal.js";

const DIR = "/w";

async function open(fs: SimFS, options: Parameters<typeof Wal.open<JsonValue>>[1] = {}) {
  return await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec, ...options });
}

/**
 * The directory's files and their bytes, to show a refused call changed nothing on disk. The bytes are kept as one
 * base64 string per file, compared whole: as an array of numbers, the active segment's preallocated megabyte made
 * each comparison an element-by-element walk of a million entries.
 */
async function snapshot(fs: SimFS): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await fs.readdir(DIR)).sort()) {
    const file = await fs.open(`${DIR}/${name}`, "read");
    try {
      const bytes = new Uint8Array(await file.size());
      await file.read(bytes, 0, bytes.byteLength, 0);
      out[name] = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
    } finally {
      await file.close();
    }
  }
  return out;
}

/** Every recovery mode opens the log with exactly `events` (at the given fence). */
async function opensEverywhere(fs: SimFS, events: JsonValue[], checkpointLsn = 0): Promise<void> {
  for (const recovery of RECOVERY_MODES) {
    const { wal, events: got } = await open(fs, { recovery, checkpointLsn });
    expect(got, recovery).toEqual(events);
    await wal.close();
  }
}

describe("transaction ids: append, commit and abort name an open transaction or are refused", () => {
  const misuses: [string, (wal: Wal<JsonValue>, ctx: { committed: number; tx: number }) => Promise<unknown>][] = [
    ["append to a transaction never begun", (wal) => wal.append(99, "x")],
    ["appendBatch to a transaction never begun", (wal) => wal.appendBatch(99, ["x"])],
    ["commit a transaction never begun", (wal) => wal.commit(99)],
    ["abort a transaction never begun", (wal) => wal.abort(99)],
    ["commit twice", (wal, c) => wal.commit(c.committed)],
    ["append after commit", (wal, c) => wal.append(c.committed, "x")],
    ["abort after commit", (wal, c) => wal.abort(c.committed)],
    ["append to a commitTx's beginLsn", (wal, c) => wal.append(c.tx, "x")],
    ["commit a commitTx's beginLsn", (wal, c) => wal.commit(c.tx)],
    ["a non-integer id", (wal) => wal.append(Number.NaN, "x")],
  ];
  for (const [name, misuse] of misuses) {
    it(`${name}: WAL_TX_NOT_OPEN, nothing written, the log reopens in every mode with every commit`, async () => {
      const fs = new SimFS();
      const { wal } = await open(fs);
      const committed = await wal.begin();
      await wal.append(committed, "a");
      await wal.commit(committed);
      const tx = (await wal.commitTx(["b"]))?.beginLsn ?? 0;
      await wal.sync();
      const before = await snapshot(fs);
      const next = wal.nextLsn();
      await expect(misuse(wal, { committed, tx })).rejects.toMatchObject({ code: "WAL_TX_NOT_OPEN" });
      expect(wal.nextLsn()).toBe(next);
      await wal.sync();
      expect(await snapshot(fs)).toEqual(before);
      await wal.commitTx(["c"]);
      await wal.close();
      await opensEverywhere(fs, ["a", "b", "c"]);
    });
  }

  it("with another transaction open, a wrong id is refused the same: WAL_TX_NOT_OPEN, nothing written", async () => {
    const fs = new SimFS();
    const { wal } = await open(fs);
    const committed = await wal.begin();
    await wal.commit(committed);
    const tx = (await wal.commitTx(["b"]))?.beginLsn ?? 0;
    const aborted = await wal.begin();
    await wal.abort(aborted);
    const running = await wal.begin();
    await wal.append(running, "kept");
    await wal.sync();
    const before = await snapshot(fs);
    const next = wal.nextLsn();
    for (const id of [99, committed, tx, aborted, running + 1, Number.NaN]) {
      for (const call of [
        () => wal.append(id, "x"),
        () => wal.appendBatch(id, ["x"]),
        () => wal.commit(id),
        () => wal.abort(id),
      ]) {
        await expect(call()).rejects.toMatchObject({ code: "WAL_TX_NOT_OPEN" });
      }
    }
    expect(wal.nextLsn()).toBe(next);
    await wal.sync();
    expect(await snapshot(fs)).toEqual(before);
    await wal.commit(running);
    await wal.close();
    await opensEverywhere(fs, ["b", "kept"]);
  });

  it("a transaction begun before a reopen cannot be continued by the new handle", async () => {
    const fs = new SimFS();
    const first = await open(fs);
    const b = await first.wal.begin();
    await first.wal.append(b, "lost");
    await first.wal.close();
    const { wal } = await open(fs);
    await expect(wal.commit(b)).rejects.toMatchObject({ code: "WAL_TX_NOT_OPEN" });
    await wal.close();
    await opensEverywhere(fs, []);
  });
});

describe("checkpoint fences: inside a transaction, regressing, or in the future are refused", () => {
  it("the README's old recipe (fence = durableLsn) inside an open transaction is refused; checkpoint(safe) works", async () => {
    const fs = new SimFS();
    const { wal } = await open(fs);
    await wal.commitTx(["a"]);
    const open1 = await wal.begin();
    await wal.append(open1, "x");
    await wal.commitTx(["b"]); // fsynced together with the open transaction's begin
    const fence = wal.durableLsn();
    expect(fence).toBeGreaterThan(open1);
    const before = await snapshot(fs);
    const next = wal.nextLsn();
    await expect(wal.checkpointMarker(fence)).rejects.toMatchObject({
      code: "WAL_BAD_CHECKPOINT",
      details: { usableFence: open1 - 1 },
    });
    await expect(wal.truncateUpTo(fence)).rejects.toMatchObject({ code: "WAL_BAD_CHECKPOINT" });
    await expect(wal.checkpoint(fence)).rejects.toMatchObject({ code: "WAL_BAD_CHECKPOINT" });
    expect(wal.nextLsn()).toBe(next);
    await wal.sync();
    expect(await snapshot(fs)).toEqual(before);

    const safe = wal.safeCheckpointLsn();
    expect(safe).toBe(open1 - 1);
    await wal.checkpoint(safe);
    await wal.commit(open1);
    await wal.close();
    // At the safe fence, "a" is in the snapshot; the transaction that was open and "b" come back.
    await opensEverywhere(fs, ["b", "x"], safe);
    await opensEverywhere(fs, ["a", "b", "x"], 0);
  });

  it("a finished transaction's inside is refused too, and a commit LSN is always accepted", async () => {
    const fs = new SimFS();
    const { wal } = await open(fs);
    const info = await wal.commitTx(["a"]);
    if (info === null) throw new Error("no commit");
    for (const inside of [info.beginLsn, info.beginLsn + 1]) {
      await expect(wal.checkpointMarker(inside)).rejects.toMatchObject({ code: "WAL_BAD_CHECKPOINT" });
    }
    const b = await wal.begin();
    await wal.append(b, "x");
    await wal.append(b, "y");
    await wal.abort(b);
    for (let l = b; l < b + 3; l++) {
      await expect(wal.checkpointMarker(l)).rejects.toMatchObject({ code: "WAL_BAD_CHECKPOINT" });
    }
    await wal.checkpointMarker(info.commitLsn);
    await wal.checkpointMarker(b + 3);
    await wal.close();
    await opensEverywhere(fs, [], b + 3);
  });

  it("a transaction left unfinished by a crash keeps its inside refused after the reopen", async () => {
    const fs = new SimFS();
    const first = await open(fs);
    await first.wal.commitTx(["a"]);
    const b = await first.wal.begin();
    await first.wal.append(b, "x");
    await first.wal.append(b, "y");
    await first.wal.sync();
    // Crash: the handle is never closed; the durable image is what a reopen sees.
    const crashed = fs.durableImage();
    const { wal } = await Wal.open<JsonValue>(DIR, { fs: crashed, codec: jsonCodec });
    await expect(wal.checkpointMarker(b + 1)).rejects.toMatchObject({ code: "WAL_BAD_CHECKPOINT" });
    await wal.checkpointMarker(b + 2);
    await wal.close();
    await opensEverywhere(crashed, [], b + 2);
  });

  it("a marker regressing below a fenced marker is refused (it bricked every later open at fence 0)", async () => {
    const fs = new SimFS();
    const first = await open(fs);
    for (let i = 0; i < 3; i++) await first.wal.commitTx([i]);
    const marker = await first.wal.checkpointMarker(3);
    await first.wal.close();
    const { wal } = await open(fs, { checkpointLsn: marker });
    await expect(wal.checkpointMarker(1)).rejects.toMatchObject({
      code: "WAL_BAD_CHECKPOINT",
      details: { usableFence: marker },
    });
    // Below the open fence is a regression too, even when no marker says so.
    await expect(wal.checkpointMarker(marker - 1)).rejects.toMatchObject({ code: "WAL_BAD_CHECKPOINT" });
    await wal.close();
    await opensEverywhere(fs, [0, 1, 2], 0);
  });

  it("a marker regressing below one read at open (the handle opened at fence 0) is refused, nothing written", async () => {
    const fs = new SimFS();
    const first = await open(fs);
    const a = await first.wal.commitTx(["a"]);
    const b = await first.wal.commitTx(["b"]);
    if (a === null || b === null) throw new Error("no commit");
    const marker = await first.wal.checkpointMarker(b.commitLsn);
    await first.wal.close();
    // Opened without a fence: only the marker in the log says where a new one may not go below.
    const { wal } = await open(fs);
    const before = await snapshot(fs);
    const next = wal.nextLsn();
    await expect(wal.checkpointMarker(a.commitLsn)).rejects.toMatchObject({
      code: "WAL_BAD_CHECKPOINT",
      details: { usableFence: marker },
    });
    await expect(wal.checkpoint(a.commitLsn)).rejects.toMatchObject({ code: "WAL_BAD_CHECKPOINT" });
    expect(wal.safeCheckpointLsn()).toBe(marker);
    expect(wal.nextLsn()).toBe(next);
    expect(await snapshot(fs)).toEqual(before);
    await wal.close();
    await opensEverywhere(fs, ["a", "b"], 0);
  });

  it("a marker regressing below one this handle wrote is refused, also at a transaction boundary", async () => {
    const fs = new SimFS();
    const { wal } = await open(fs);
    const first = await wal.commitTx(["a"]);
    const second = await wal.commitTx(["b"]);
    if (first === null || second === null) throw new Error("no commit");
    await wal.checkpointMarker(second.commitLsn);
    const before = await snapshot(fs);
    const next = wal.nextLsn();
    // first.commitLsn is a boundary, so only the marker written above makes it a regression.
    await expect(wal.checkpointMarker(first.commitLsn)).rejects.toMatchObject({
      code: "WAL_BAD_CHECKPOINT",
      details: { usableFence: second.commitLsn },
    });
    await expect(wal.checkpoint(first.commitLsn)).rejects.toMatchObject({ code: "WAL_BAD_CHECKPOINT" });
    expect(wal.nextLsn()).toBe(next);
    expect(await snapshot(fs)).toEqual(before);
    await wal.close();
    await opensEverywhere(fs, ["a", "b"], 0);
  });

  it("a fence at an open transaction's begin LSN is refused, before and after its commit", async () => {
    const fs = new SimFS();
    const { wal } = await open(fs);
    await wal.commitTx(["a"]);
    const b = await wal.begin();
    await wal.append(b, "x");
    await wal.sync();
    const next = wal.nextLsn();
    await expect(wal.checkpointMarker(b)).rejects.toMatchObject({
      code: "WAL_BAD_CHECKPOINT",
      details: { usableFence: b - 1 },
    });
    await expect(wal.truncateUpTo(b)).rejects.toMatchObject({ code: "WAL_BAD_CHECKPOINT" });
    expect(wal.nextLsn()).toBe(next);
    await wal.commit(b);
    await expect(wal.checkpointMarker(b)).rejects.toMatchObject({ code: "WAL_BAD_CHECKPOINT" });
    await wal.close();
    await opensEverywhere(fs, ["a", "x"], 0);
  });

  it("a marker or truncation fence not yet written is refused; argument errors are WAL_INVALID_ARGUMENT", async () => {
    const fs = new SimFS();
    const { wal } = await open(fs);
    await wal.commitTx(["a"]);
    for (const fence of [wal.nextLsn(), Number.MAX_SAFE_INTEGER]) {
      await expect(wal.checkpointMarker(fence)).rejects.toMatchObject({ code: "WAL_BAD_CHECKPOINT" });
      await expect(wal.truncateUpTo(fence)).rejects.toMatchObject({ code: "WAL_BAD_CHECKPOINT" });
    }
    for (const bad of [-1, 0.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, "3" as unknown as number]) {
      await expect(wal.checkpointMarker(bad)).rejects.toMatchObject({ code: "WAL_INVALID_ARGUMENT" });
      await expect(wal.truncateUpTo(bad)).rejects.toMatchObject({ code: "WAL_INVALID_ARGUMENT" });
      await expect(wal.whenDurable(bad)).rejects.toMatchObject({ code: "WAL_INVALID_ARGUMENT" });
    }
    await expect(wal.whenDurable(wal.nextLsn())).rejects.toMatchObject({ code: "WAL_INVALID_ARGUMENT" });
    await expect(wal.commitTx("a" as unknown as JsonValue[])).rejects.toMatchObject({
      code: "WAL_INVALID_ARGUMENT",
    });
    await wal.whenDurable(0);
    await wal.close();
  });

  it("a transaction spanning a rotation cannot lose its begin to truncateUpTo", async () => {
    const fs = new SimFS();
    const { wal, begin: b } = await txOpenAcrossRotations(fs, DIR);
    await wal.sync();
    expect((await listSegments(fs, DIR)).length).toBeGreaterThan(3);
    const fence = wal.durableLsn();
    await expect(wal.truncateUpTo(fence)).rejects.toMatchObject({ code: "WAL_BAD_CHECKPOINT" });
    await wal.commit(b);
    await wal.checkpoint(wal.safeCheckpointLsn());
    await wal.close();
    await opensEverywhere(fs, [], wal.safeCheckpointLsn());
  });
});

describe("open never drops history silently", () => {
  it("after truncateUpTo, a fence below the oldest segment is WAL_FENCE_TOO_LOW naming a usable fence", async () => {
    const fs = new SimFS();
    const { wal } = await open(fs, { segmentTargetBytes: 100 });
    for (let i = 0; i < 50; i++) await wal.commitTx([i]);
    const fence = wal.safeCheckpointLsn();
    await wal.checkpoint(fence);
    await wal.close();
    const oldest = (await listSegments(fs, DIR))[0];
    expect(oldest?.id).toBeGreaterThan(1);
    for (const recovery of RECOVERY_MODES) {
      await expect(open(fs, { recovery })).rejects.toMatchObject({
        code: "WAL_FENCE_TOO_LOW",
        details: { usableFence: expect.any(Number) },
      });
    }
    const error: unknown = await open(fs).then(
      () => undefined,
      (e: unknown) => e,
    );
    const usable = (error as { details: { usableFence: number } }).details.usableFence;
    expect(usable).toBeLessThanOrEqual(fence);
    const reopened = await open(fs, { checkpointLsn: usable });
    await reopened.wal.close();
    const opted = await open(fs, { allowTruncatedHistory: true });
    expect(opted.events.length).toBeGreaterThan(0);
    expect(opted.events.length).toBeLessThan(50);
    await opted.wal.close();
    await opensEverywhere(fs, [], fence);
  });

  it("a fence inside a transaction is WAL_FENCE_IN_TRANSACTION naming the boundary below it", async () => {
    const fs = new SimFS();
    const { wal } = await open(fs);
    await wal.commitTx(["a"]);
    const info = await wal.commitTx(["b"]);
    await wal.close();
    if (info === null) throw new Error("no commit");
    await expect(open(fs, { checkpointLsn: info.beginLsn })).rejects.toMatchObject({
      code: "WAL_FENCE_IN_TRANSACTION",
      details: { usableFence: info.beginLsn - 1 },
    });
    await opensEverywhere(fs, ["b"], info.beginLsn - 1);
  });
});

describe("close completes what was issued before it", () => {
  it("every commit issued before close resolves, also those queued behind a rotation (8 KiB segments)", async () => {
    const fs = new SimFS();
    const { wal } = await open(fs, { segmentTargetBytes: 8 * 1024 });
    const payload = "p".repeat(100);
    const commits = Array.from({ length: 1000 }, (_, i) => wal.commitTx([`${i}${payload}`]));
    const closing = wal.close();
    // Caught at once: it is refused while the commits before it are still being made durable.
    const after = wal.commitTx(["late"]).catch((e: unknown) => e);
    const results = await Promise.allSettled(commits);
    expect(results.filter((r) => r.status === "rejected")).toEqual([]);
    await closing;
    expect(await after).toMatchObject({ code: "WAL_CLOSED" });
    const { events, wal: reopened } = await open(fs);
    expect(events).toHaveLength(1000);
    await reopened.close();
  });
});
