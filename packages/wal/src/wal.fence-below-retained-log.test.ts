/**
 * A checkpoint snapshot below what the log still holds (the oldest segment's base LSN minus one) is refused with
 * `WAL_BAD_CHECKPOINT` and nothing written, by the handle that truncated and by one reopened on the log alike: a
 * reader starting there lacks the records truncation removed, so an open at that fence fails `WAL_FENCE_TOO_LOW`.
 * The handle that truncated accepted such a marker (it still knew the transactions below), and so did one reopened
 * with `allowTruncatedHistory` (it knew none of them, so it took every LSN there for a boundary).
 */

import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { oldestRetainedLsn } from "@lora/wal-replay";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { txOpenAcrossRotations } from "./test-support/tx-open-across-rotations.js";
import { Wal } from "./wal.js";

const DIR = "/w";

async function open(fs: SimFS, options: Parameters<typeof Wal.open<JsonValue>>[1] = {}) {
  return await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec, segmentTargetBytes: 100, ...options });
}

/** The directory's files and their bytes, to show a refused call changed nothing on disk. */
async function snapshot(fs: SimFS): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  for (const name of (await fs.readdir(DIR)).sort()) {
    const file = await fs.open(`${DIR}/${name}`, "read");
    try {
      const bytes = new Uint8Array(await file.size());
      await file.read(bytes, 0, bytes.byteLength, 0);
      out[name] = Array.from(bytes);
    } finally {
      await file.close();
    }
  }
  return out;
}

/** A log of 50 commitTx triples truncated without a marker; returns its handle and its oldest segment's base. */
async function truncatedLog(fs: SimFS): Promise<{ wal: Wal<JsonValue>; base: number }> {
  const { wal } = await open(fs);
  for (let i = 0; i < 50; i++) await wal.commitTx([i]);
  expect(await wal.truncateUpTo(wal.safeCheckpointLsn())).toBeGreaterThan(0);
  const base = (await oldestRetainedLsn(DIR, { fs })) as number;
  // Segments start at transaction boundaries: LSNs 3k are the boundaries of commitTx triples from LSN 1.
  expect((base - 1) % 3).toBe(0);
  expect(base - 4).toBeGreaterThanOrEqual(0);
  return { wal, base };
}

/** `wal` refuses a snapshot at `base - 4` (a boundary, below the retained log) and accepts one at `base - 1`. */
async function refusesBelowAcceptsAt(fs: SimFS, wal: Wal<JsonValue>, base: number): Promise<void> {
  const below = base - 4;
  const before = await snapshot(fs);
  const next = wal.nextLsn();
  for (const call of [() => wal.checkpointMarker(below), () => wal.checkpoint(below)]) {
    await expect(call()).rejects.toMatchObject({
      code: "WAL_BAD_CHECKPOINT",
      message: expect.stringContaining("no longer holds"),
      details: { lsn: below, oldestRetainedLsn: base, usableFence: wal.safeCheckpointLsn() },
    });
  }
  expect(wal.safeCheckpointLsn()).toBeGreaterThanOrEqual(base - 1);
  // Truncation there has nothing left to delete: accepted, as a fence below the floor is.
  expect(await wal.truncateUpTo(below)).toBe(0);
  expect(wal.nextLsn()).toBe(next);
  await wal.sync();
  expect(await snapshot(fs)).toEqual(before);
  expect(await wal.checkpointMarker(base - 1)).toBe(next);
  await wal.close();
  // The marker it accepted is a fence the log opens at.
  const reopened = await open(fs, { checkpointLsn: base - 1 });
  await reopened.wal.close();
}

describe("a checkpoint snapshot below the oldest segment's base minus one", () => {
  it("is refused by the handle that truncated; base - 1 is accepted", async () => {
    const fs = new SimFS();
    const { wal, base } = await truncatedLog(fs);
    await refusesBelowAcceptsAt(fs, wal, base);
  });

  it("is refused by a handle reopened at base - 1; base - 1 is accepted", async () => {
    const fs = new SimFS();
    const { wal, base } = await truncatedLog(fs);
    await wal.close();
    const { wal: reopened } = await open(fs, { checkpointLsn: base - 1 });
    await refusesBelowAcceptsAt(fs, reopened, base);
  });

  it("is refused by a handle reopened with allowTruncatedHistory at fence 0; base - 1 is accepted", async () => {
    const fs = new SimFS();
    const { wal, base } = await truncatedLog(fs);
    await wal.close();
    const { wal: reopened } = await open(fs, { allowTruncatedHistory: true });
    await refusesBelowAcceptsAt(fs, reopened, base);
  });

  it("base - 1 inside a transaction that spans the truncation point stays refused as inside it", async () => {
    const fs = new SimFS();
    const { wal, begin: b } = await txOpenAcrossRotations(fs, DIR);
    const end = await wal.commit(b);
    await wal.commitTx(["after"]);
    await wal.sync();
    expect(await wal.truncateUpTo(wal.safeCheckpointLsn())).toBeGreaterThan(0);
    const base = (await oldestRetainedLsn(DIR, { fs })) as number;
    expect(b).toBeLessThan(base - 1);
    expect(base - 1).toBeLessThan(end);
    for (const handle of ["same", "reopened"] as const) {
      const w = handle === "same" ? wal : (await open(fs, { allowTruncatedHistory: true })).wal;
      await expect(w.checkpointMarker(base - 1), handle).rejects.toMatchObject({
        code: "WAL_BAD_CHECKPOINT",
        message: expect.stringContaining("inside a transaction"),
      });
      await expect(w.checkpointMarker(base - 2), handle).rejects.toMatchObject({
        code: "WAL_BAD_CHECKPOINT",
        message: expect.stringContaining("no longer holds"),
      });
      const safe = w.safeCheckpointLsn();
      expect(safe, handle).toBeGreaterThanOrEqual(end);
      // The marker goes in last: it would raise the reopened handle's floor above the LSNs checked here.
      if (handle === "reopened") await w.checkpointMarker(safe);
      await w.close();
    }
  });
});
