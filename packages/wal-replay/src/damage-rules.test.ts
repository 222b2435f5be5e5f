import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bytesCodec, crc32, encodeRecord, jsonCodec, type PayloadCodec } from "@lora/wal-codec";
import { loraCodec } from "@lora/wal-codec/lora";
import { encodeSegmentHeader, SEGMENT_HEADER_BYTES, SegmentReader, segmentPath } from "@lora/wal-segment";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { appendBytes, fs, type Rec, tx, writeSegment } from "../test/build-log.js";
import { classifyHeaderFailure } from "./damage-rules.js";
import { replayDir } from "./replay.js";
import { RECOVERY_MODES, type RecoveryMode } from "./replay-types.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "lora-wal-rules-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function run<E>(codec: PayloadCodec<E>, recovery?: RecoveryMode) {
  const replay = replayDir(dir, { codec, ...(recovery === undefined ? {} : { recovery }) });
  let handedOut = 0;
  for await (const _ of replay) handedOut++;
  return { handedOut, outcome: await replay.outcome() };
}

/** A record whose payload is `payload` verbatim, CRC-valid: what another codec (or a newer writer) wrote. */
function rawRecord(kind: "mutation" | "mutationBatch", lsn: number, txBeginLsn: number, payload: Uint8Array) {
  const raw: PayloadCodec<Uint8Array> = {
    name: "raw",
    encodeEvent: (e, out) => out.raw(e),
    encodeBatch: (es, out) => out.raw(es[0] as Uint8Array),
    decodeEvent: (p) => p,
    decodeBatch: (p) => [p],
  };
  return kind === "mutation"
    ? encodeRecord({ kind, lsn, txBeginLsn, event: payload }, raw)
    : encodeRecord({ kind, lsn, txBeginLsn, events: [payload] }, raw);
}

async function snapshot(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await readdir(dir)).sort()) out[name] = (await readFile(join(dir, name))).toString("hex");
  return out;
}

describe("codec mismatch", () => {
  it("a JSON log read with another codec throws WAL_CODEC_MISMATCH in every mode, naming the codec", async () => {
    await writeSegment(dir, 1, 1, [...tx(1, ["a"]), ...tx(4, ["b"])], { sealed: true });
    await writeSegment(dir, 2, 7, tx(7, ["c"]));
    const before = await snapshot();
    for (const mode of RECOVERY_MODES) {
      const error = await run(loraCodec, mode).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, mode).toMatchObject({
        code: "WAL_CODEC_MISMATCH",
        cause: { code: "WAL_DECODE" },
        details: { segmentId: 1, offset: SEGMENT_HEADER_BYTES + 25, lsn: 2 },
      });
      expect((error as Error).message).toContain('codec "lora"');
      expect((error as Error).message).toContain("open it with the codec it was written with");
    }
    // bytesCodec reads any single event, but a JSON batch is not its count-and-lengths framing.
    await expect(run(bytesCodec as PayloadCodec<unknown>)).rejects.toMatchObject({ code: "WAL_CODEC_MISMATCH" });
    expect(await snapshot()).toEqual(before);
  });

  it("markers before the record do not count: only a decoded payload-bearing record does", async () => {
    const records: Rec[] = [
      { kind: "txBegin", lsn: 1 },
      { kind: "txCommit", lsn: 2, txBeginLsn: 1 },
      { kind: "checkpoint", lsn: 3, snapshotLsn: 2 },
    ];
    await writeSegment(dir, 1, 1, records, { sealed: true });
    const path = await writeSegment(dir, 2, 4, [{ kind: "txBegin", lsn: 4 }]);
    await appendBytes(path, rawRecord("mutation", 5, 4, new TextEncoder().encode("{not json")));
    await expect(run(jsonCodec, "point-in-time")).rejects.toMatchObject({
      code: "WAL_CODEC_MISMATCH",
      details: { segmentId: 2, lsn: 5 },
    });
  });

  it("after a payload decoded, an undecodable payload is corruption (and point-in-time reports it)", async () => {
    await writeSegment(dir, 1, 1, tx(1, ["a"]), { sealed: true });
    const path = await writeSegment(dir, 2, 4, [{ kind: "txBegin", lsn: 4 }]);
    const at = (await stat(path)).size;
    await appendBytes(path, rawRecord("mutation", 5, 4, new TextEncoder().encode("{not json")));
    await expect(run(jsonCodec)).rejects.toMatchObject({ code: "WAL_CORRUPT", cause: { code: "WAL_DECODE" } });
    const { outcome, handedOut } = await run(jsonCodec, "point-in-time");
    expect(handedOut).toBe(1);
    expect(outcome.corruption).toMatchObject({ segmentId: 2, offset: at });
    expect(outcome.corruption?.error.message).toContain("after earlier mutation records decoded");
  });

  it("a CRC-valid record that is not a payload the codec rejected is corruption, even first", async () => {
    const path = await writeSegment(dir, 1, 1, [{ kind: "txBegin", lsn: 1 }]);
    // A marker carrying a payload (WAL_MARKER_PAYLOAD).
    const marker = rawRecord("mutation", 2, 1, Uint8Array.of(1, 2));
    marker[4] = 3;
    const view = new DataView(marker.buffer, marker.byteOffset, marker.byteLength);
    view.setUint32(marker.byteLength - 4, crc32(marker.subarray(0, marker.byteLength - 4)), true);
    await appendBytes(path, marker);
    await expect(run(jsonCodec)).rejects.toMatchObject({
      code: "WAL_CORRUPT",
      cause: { code: "WAL_MARKER_PAYLOAD" },
    });
  });
});

describe("sealed newest segment", () => {
  it("damage at its end is corruption, never a torn tail", async () => {
    const path = await writeSegment(dir, 1, 1, [...tx(1, ["a"]), ...tx(4, ["b"])], { sealed: true });
    await appendBytes(path, Uint8Array.of(80, 0, 0, 0, 6, 9));
    await expect(run(jsonCodec)).rejects.toMatchObject({ code: "WAL_CORRUPT" });
    const { outcome } = await run(jsonCodec, "point-in-time");
    expect(outcome.tornTail).toBeNull();
    expect(outcome.corruption?.error.message).toContain("damage in a sealed segment");
  });
});

describe("headerless newest segment", () => {
  it("all zeros at any length, read in bounded chunks; a non-zero byte anywhere makes it a bad header", async () => {
    await writeSegment(dir, 1, 1, tx(1, ["a"]), { sealed: true });
    const big = 300 * 1024 + 7;
    await writeFile(segmentPath(dir, 2), new Uint8Array(big));
    const { outcome } = await run(jsonCodec);
    expect(outcome.headerlessLastSegment).toMatchObject({ id: 2, fileSize: big });
    const almost = new Uint8Array(big);
    almost[big - 1] = 1;
    await writeFile(segmentPath(dir, 2), almost);
    await expect(run(jsonCodec)).rejects.toMatchObject({ code: "WAL_BAD_HEADER" });
  });

  it("a short or zero-filled segment that is not the newest is a bad header", async () => {
    await writeFile(segmentPath(dir, 1), new Uint8Array(4096));
    await writeSegment(dir, 2, 1, tx(1, ["a"]));
    await expect(run(jsonCodec, "point-in-time")).rejects.toMatchObject({ code: "WAL_BAD_HEADER" });
    const error = await SegmentReader.open(fs, segmentPath(dir, 1)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(await classifyHeaderFailure(fs, segmentPath(dir, 1), error, false)).toMatchObject({ kind: "bad-header" });
    expect(await classifyHeaderFailure(fs, segmentPath(dir, 1), error, true)).toMatchObject({
      kind: "headerless",
      fileSize: 4096,
    });
  });

  it("a newest segment with a bad header that is not all zeros is refused, even in point-in-time", async () => {
    await writeSegment(dir, 1, 1, tx(1, ["a"]), { sealed: true });
    const header = encodeSegmentHeader({ baseLsn: 4, sealed: false });
    header[9] = (header[9] as number) ^ 0xff;
    await writeFile(segmentPath(dir, 2), header);
    await expect(run(jsonCodec, "point-in-time")).rejects.toMatchObject({ code: "WAL_BAD_HEADER" });
  });
});

describe("classifyHeaderFailure", () => {
  it("passes anything but WAL_BAD_HEADER back to the caller", async () => {
    await writeFile(segmentPath(dir, 1), new Uint8Array(8));
    const io = Object.assign(new Error("EIO"), { code: "EIO" });
    expect(await classifyHeaderFailure(fs, segmentPath(dir, 1), io, true)).toBeUndefined();
  });
});
