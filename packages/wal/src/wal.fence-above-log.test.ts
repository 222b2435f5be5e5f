/**
 * Opening with a fence above everything in the log: the first record after it goes into a new segment at the
 * fence + 1, so LSNs within a segment rise by one, which recovery's search for an intact marker after damage relies
 * on. (Appended to the same segment, damage far before the end with intact records after the gap was cut as a torn
 * tail, dropping acknowledged commits, where it must be refused as corruption.) The open itself changes nothing.
 */

import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { createSlot, replayDir } from "@lora/wal-replay";
import { segmentPath } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { sealInPlace } from "../test/support.js";
import { Wal } from "./wal.js";

const DIR = "/w";

describe("a fence above the log's last LSN", () => {
  it("the first commit seals the newest segment and goes into a new one at the fence + 1", async () => {
    const fs = SimFS.withDir(DIR);
    const { wal } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec });
    for (let i = 0; i < 3; i++) await wal.commitTx([`before ${i}`]); // LSNs 1..9
    await wal.close();
    const fence = 1000;
    const segmentFiles = () =>
      fs
        .listSync(DIR)
        .filter((n) => n.endsWith(".wal"))
        .map((n) => [n, fs.readFileSync(`${DIR}/${n}`).length]);
    const before = segmentFiles();
    const { wal: again, events } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec, checkpointLsn: fence });
    expect(events).toEqual([]);
    expect(segmentFiles()).toEqual(before); // the open writes no segment
    expect(again.activeSegmentId()).toBe(1);
    expect((await again.commitTx(["after"]))?.beginLsn).toBe(fence + 1);
    expect(again.activeSegmentId()).toBe(2);
    await again.close();
    const replay = replayDir(DIR, { codec: jsonCodec, fs });
    for await (const _ of replay) {
      // every transaction, to reach the outcome
    }
    const segments = (await replay.outcome()).segments;
    expect(segments.map((s) => [s.sealed, s.baseLsn, s.firstLsn, s.lastLsn])).toEqual([
      [true, 1, 1, 9],
      [false, fence + 1, fence + 1, fence + 3],
    ]);
    const third = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec, checkpointLsn: fence });
    expect(third.events).toEqual(["after"]);
    expect(third.healed).toEqual([]);
    await third.wal.close();
  });

  it("an empty newest segment below the fence is sealed too: its first record would open a gap", async () => {
    const fs = SimFS.withDir(DIR);
    const { wal } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec });
    await wal.close(); // segment 1, header only, base 1
    const { wal: again } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec, checkpointLsn: 50 });
    expect((await again.commitTx(["x"]))?.beginLsn).toBe(51);
    await again.close();
    expect(fs.listSync(DIR).filter((n) => n.endsWith(".wal"))).toEqual(["0000000001.wal", "0000000002.wal"]);
  });

  it("the successor recovery creates for a sealed newest segment starts at the fence + 1 and takes the first commit", async () => {
    const fs = SimFS.withDir(DIR);
    const { wal } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec });
    await wal.commitTx(["a"]); // LSNs 1..3
    await wal.close();
    // The crash came between sealing segment 1 and creating segment 2.
    await sealInPlace(fs, segmentPath(DIR, 1));
    const fence = 50;
    const { wal: again, healed } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec, checkpointLsn: fence });
    expect(healed).toEqual([
      { kind: "sealedSegmentSucceeded", sealed: segmentPath(DIR, 1), created: segmentPath(DIR, 2) },
    ]);
    expect((await again.commitTx(["b"]))?.beginLsn).toBe(fence + 1);
    expect(again.activeSegmentId()).toBe(2); // no empty segment sealed before it
    await again.close();
    expect(fs.listSync(DIR).filter((n) => n.endsWith(".wal"))).toEqual(["0000000001.wal", "0000000002.wal"]);
    const third = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec, checkpointLsn: fence });
    expect(third.events).toEqual(["b"]);
    await third.wal.close();
  });

  it("a new log opened with a fence starts its first segment at the fence + 1", async () => {
    const fs = SimFS.withDir(DIR);
    const { wal } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec, checkpointLsn: 50 });
    expect((await wal.commitTx(["x"]))?.beginLsn).toBe(51);
    expect(wal.activeSegmentId()).toBe(1);
    await wal.close();
    expect(fs.listSync(DIR).filter((n) => n.endsWith(".wal"))).toEqual(["0000000001.wal"]);
  });

  it("a checkpoint marker as the first record after the fence goes into the new segment too", async () => {
    const fs = SimFS.withDir(DIR);
    const { wal } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec });
    await wal.commitTx(["a"]); // LSNs 1..3
    await wal.close();
    const { wal: again } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec, checkpointLsn: 20 });
    expect(await again.checkpointMarker(20)).toBe(21);
    expect(again.activeSegmentId()).toBe(2);
    await again.close();
    const third = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec, checkpointLsn: 20 });
    expect(third.checkpointLsnObserved).toBe(20);
    await third.wal.close();
  });

  it("damage in the commits before the fence, followed by a MiB and more of later ones, is refused as corruption", async () => {
    const fs = SimFS.withDir(DIR);
    const { wal } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec });
    for (let i = 0; i < 3; i++) await wal.commitTx([`before ${i}`]);
    await wal.close();
    const lastCommitAt = fs.readFileSync(segmentPath(DIR, 1)).length - 25; // the third TxCommit, fsynced
    const { wal: again } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec, checkpointLsn: 1_000_000 });
    // More than the 1 MiB unsynced window of intact records after the damage below.
    for (let i = 0; i < 400; i++) await again.commitTx([`after ${i} ${"y".repeat(4000)}`]);
    await again.close();
    const first = fs.readFileSync(segmentPath(DIR, 1));
    first[lastCommitAt + 24] = (first[lastCommitAt + 24] as number) ^ 1; // a media error in its CRC
    fs.writeFileSync(segmentPath(DIR, 1), first);
    await expect(Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec, checkpointLsn: 1_000_000 })).rejects.toMatchObject({
      code: "WAL_CORRUPT",
    });
  });
});

describe("refused calls after an open with a fence above the log's end", () => {
  it("do no I/O: the segment is not rotated by a call that is refused", async () => {
    const fs = SimFS.withDir(DIR);
    const { wal } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec });
    await wal.commitTx(["a"]); // LSNs 1..3
    await wal.close();
    const { wal: again } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec, checkpointLsn: 1000 });
    await expect(again.append(5, "x")).rejects.toMatchObject({ code: "WAL_TX_NOT_OPEN" });
    await expect(again.commit(5)).rejects.toMatchObject({ code: "WAL_TX_NOT_OPEN" });
    await expect(again.checkpointMarker(3)).rejects.toMatchObject({ code: "WAL_BAD_CHECKPOINT" });
    expect(again.activeSegmentId()).toBe(1);
    expect(fs.listSync(DIR).filter((n) => n.endsWith(".wal"))).toEqual(["0000000001.wal"]);
    const tx = await again.begin(); // the first record: into a new segment
    expect(tx).toBe(1001);
    expect(again.activeSegmentId()).toBe(2);
    await again.commit(tx);
    await again.close();
  });

  it("a slot at the fence is refused until a record is written after it, as a reopen without it goes on below", async () => {
    const fs = SimFS.withDir(DIR);
    const { wal } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec });
    await wal.commitTx(["before"]); // LSNs 1..3
    await wal.close();
    const fence = 100;
    const { wal: fenced } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec, checkpointLsn: fence });
    expect(fenced.safeCheckpointLsn()).toBe(fence);
    await expect(createSlot(DIR, "s", { fs, confirmedLsn: fence })).rejects.toMatchObject({
      code: "WAL_INVALID_ARGUMENT",
      details: { lsn: fence },
    });
    expect(fs.listSync(DIR)).not.toContain("slots");
    await fenced.close();
    // Nothing of the fence is on disk: opened without it, the log goes on at 4, which a slot at 100 would skip.
    const { wal: plain } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec });
    expect((await plain.commitTx(["unfenced"]))?.beginLsn).toBe(4);
    await plain.close();
    const { wal: marked } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec, checkpointLsn: fence });
    await marked.checkpoint(fence);
    expect((await createSlot(DIR, "s", { fs, confirmedLsn: fence })).confirmedLsn).toBe(fence);
    await marked.close();
  });
});
