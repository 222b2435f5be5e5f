/**
 * Segments that hold no record: a log never makes one it cannot open again. A successor's base lies above its
 * sealed predecessor's even when that predecessor is only a header (a point-in-time cut at its first record, or a
 * crash that sealed it empty), and a rotation target at or below the header's size does not rotate empty segments
 * without end.
 */

import { basename } from "node:path";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { decodeSegmentHeader, SEGMENT_HEADER_BYTES, SegmentWriter, segmentPath } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { sealInPlace } from "../test/support.js";
import { Wal } from "./wal.js";

const DIR = "/w";

const segmentNames = (fs: SimFS) => fs.listSync(DIR).filter((n) => n.endsWith(".wal"));

describe("segments that hold no record", () => {
  it("a sealed, header-only newest segment heals into a directory that opens again with the same history", async () => {
    const fs = SimFS.withDir(DIR);
    const { wal } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec });
    await wal.commitTx(["a"]); // LSNs 1..3
    await wal.close();
    await sealInPlace(fs, segmentPath(DIR, 1));
    const two = await SegmentWriter.create(fs, segmentPath(DIR, 2), 4);
    await two.seal();
    await two.close();

    const first = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec });
    expect(first.events).toEqual(["a"]);
    expect(first.healed).toEqual([
      { kind: "sealedSegmentSucceeded", sealed: segmentPath(DIR, 2), created: segmentPath(DIR, 3) },
    ]);
    expect((await first.wal.commitTx(["b"]))?.beginLsn).toBe(5);
    await first.wal.close();
    const second = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec });
    expect(second.events).toEqual(["a", "b"]);
    expect(second.healed).toEqual([]);
    await second.wal.close();
  });

  it("a point-in-time cut at the first record of a sealed segment leaves a log that opens again", async () => {
    const fs = SimFS.withDir(DIR);
    const { wal } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec, segmentTargetBytes: 4096 });
    for (let i = 0; i < 200; i++) await wal.commitTx([`event ${i} ${"x".repeat(40)}`]);
    await wal.close();
    expect(segmentNames(fs).length).toBeGreaterThan(3);
    const two = segmentPath(DIR, 2);
    const bytes = fs.readFileSync(two);
    bytes[SEGMENT_HEADER_BYTES + 24] = (bytes[SEGMENT_HEADER_BYTES + 24] as number) ^ 0xff; // its first record's CRC
    fs.writeFileSync(two, bytes);

    const first = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec, recovery: "point-in-time" });
    expect(first.healed.map((h) => h.kind)).toEqual(["corruptionCut", "sealedSegmentSucceeded"]);
    const kept = first.events;
    // The emptied segment keeps its base and bases must rise: that one LSN is skipped, never reused
    const { baseLsn } = decodeSegmentHeader(fs.readFileSync(two));
    expect(first.wal.nextLsn()).toBe(baseLsn + 1);
    expect((await first.wal.commitTx(["after the cut"]))?.beginLsn).toBe(baseLsn + 1);
    await first.wal.close();
    const second = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec });
    expect(second.events).toEqual([...kept, "after the cut"]);
    await second.wal.close();
  });

  for (const segmentTargetBytes of [1, SEGMENT_HEADER_BYTES]) {
    it(`segmentTargetBytes ${segmentTargetBytes} gives each transaction a segment of its own, none empty`, async () => {
      const fs = SimFS.withDir(DIR);
      const { wal } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec, segmentTargetBytes });
      for (const e of ["a", "b", "c"]) await wal.commitTx([e]);
      await wal.close();
      // A full segment is rotated before the next transaction goes in: three segments of one transaction each.
      expect(segmentNames(fs)).toHaveLength(3);
      const again = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec, segmentTargetBytes });
      expect(again.events).toEqual(["a", "b", "c"]);
      await again.wal.close();
    });
  }
});

it("a headerless newest segment's removal is durable by the time the open returns", async () => {
  const fs = SimFS.withDir(DIR);
  const { wal: first } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec });
  await first.commitTx(["a"]);
  await first.close();
  // A crash while a rotation created segment 2: 10 bytes of its header landed, segment 1 never sealed.
  const headerless = segmentPath(DIR, 2);
  fs.writeFileSync(headerless, new Uint8Array(10));
  const { wal, events, healed } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec });
  expect(events).toEqual(["a"]);
  expect(healed).toEqual([{ kind: "headerlessSegmentRemoved", segment: headerless, fileSize: 10 }]);
  // Appends resume in segment 1: nothing else fsyncs the directory before the next rotation.
  expect(fs.durableImage().listSync(DIR)).not.toContain(basename(headerless));
  await wal.close();
});
