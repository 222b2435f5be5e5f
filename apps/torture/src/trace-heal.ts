/**
 * The damage the heal workloads leave between their two opens, done with node:fs in the traced process (so it is in
 * the trace like the seam's own calls) and made durable before the reopen: whatever the crash states of phase 2
 * hold, the damage is in them, and the reopen's repair is what they test.
 */

import { closeSync, fstatSync, fsyncSync, openSync, readSync, unlinkSync, writeSync } from "node:fs";
import { type JsonValue, jsonCodec } from "@lora/wal";
import { bytesCodec, encodeRecord } from "@lora/wal-codec";
import { decodeSegmentHeader, SEGMENT_HEADER_BYTES, segmentPath, UNSYNCED_WINDOW_BYTES } from "@lora/wal-segment";
import { traceEvents } from "./trace-workload.js";

/** Share of the next transaction's bytes that lands: a record cut in its middle. */
const TORN_SHARE = 0.6;

function fsyncDir(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function headerOf(path: string): ReturnType<typeof decodeSegmentHeader> {
  const fd = openSync(path, "r");
  try {
    const bytes = new Uint8Array(SEGMENT_HEADER_BYTES);
    readSync(fd, bytes, 0, SEGMENT_HEADER_BYTES, 0);
    return decodeSegmentHeader(bytes, path);
  } finally {
    closeSync(fd);
  }
}

/**
 * Appends the first 60% of commit `index`'s transaction (TxBegin, MutationBatch, TxCommit at `nextLsn`..) to the
 * end of segment `activeId`, as a write torn by a power loss would leave it, and fsyncs it. Returns a note line.
 */
export function tearNewestSegment(dir: string, activeId: number, nextLsn: number, index: number): string {
  const records = [
    encodeRecord<JsonValue>({ kind: "txBegin", lsn: nextLsn }, jsonCodec),
    encodeRecord<JsonValue>(
      { kind: "mutationBatch", lsn: nextLsn + 1, txBeginLsn: nextLsn, events: traceEvents(index) },
      jsonCodec,
    ),
    encodeRecord<JsonValue>({ kind: "txCommit", lsn: nextLsn + 2, txBeginLsn: nextLsn }, jsonCodec),
  ];
  const whole = Buffer.concat(records);
  const torn = whole.subarray(0, Math.floor(whole.byteLength * TORN_SHARE));
  const path = segmentPath(dir, activeId);
  const fd = openSync(path, "r+");
  try {
    const end = fstatSync(fd).size;
    writeSync(fd, torn, 0, torn.byteLength, end);
    fsyncSync(fd);
    return `damaged ${path} torn ${torn.byteLength} of ${whole.byteLength} bytes at ${end}`;
  } finally {
    closeSync(fd);
  }
}

/** The torn record of `heal-torn-large`: larger than the unsynced window, so written in window-sized synced pieces. */
const LARGE_RECORD_BYTES = 1.5 * UNSYNCED_WINDOW_BYTES;
/** What landed of it: its first piece whole, a quarter of the window of the second. */
const LARGE_LANDED_BYTES = 1.25 * UNSYNCED_WINDOW_BYTES;
/** Where its payload holds the bytes of an intact commit marker: past the window, within what landed. */
const LARGE_MARKER_AT = 1.125 * UNSYNCED_WINDOW_BYTES;

/**
 * Appends a transaction's TxBegin and the first `LARGE_LANDED_BYTES` of a mutation record larger than the unsynced
 * window whose (binary) payload holds, past the window, the bytes of an intact TxCommit of a higher LSN: the first
 * piece fsynced, the torn second one fsynced as the damage. Its header says it ends past the file, so recovery cuts
 * it as a torn tail; a cut whose size change is lost while its zeroed block lands leaves the marker more than a
 * window after damage that no longer says where it ends (trace-model.ts, lost cuts). Returns a note line.
 */
export function tearNewestSegmentLarge(dir: string, activeId: number, nextLsn: number): string {
  const payload = new Uint8Array(LARGE_RECORD_BYTES).fill(0x61);
  payload.set(encodeRecord({ kind: "txCommit", lsn: nextLsn + 2, txBeginLsn: nextLsn }, bytesCodec), LARGE_MARKER_AT);
  const begin = encodeRecord({ kind: "txBegin", lsn: nextLsn }, bytesCodec);
  const big = encodeRecord({ kind: "mutation", lsn: nextLsn + 1, txBeginLsn: nextLsn, event: payload }, bytesCodec);
  const pieces = [
    Buffer.concat([begin, big.subarray(0, UNSYNCED_WINDOW_BYTES)]),
    big.subarray(UNSYNCED_WINDOW_BYTES, LARGE_LANDED_BYTES),
  ];
  const fd = openSync(segmentPath(dir, activeId), "r+");
  try {
    const end = fstatSync(fd).size;
    let at = end;
    for (const piece of pieces) {
      writeSync(fd, piece, 0, piece.byteLength, at);
      fsyncSync(fd);
      at += piece.byteLength;
    }
    return `damaged ${segmentPath(dir, activeId)} torn ${at - end - begin.byteLength} of ${big.byteLength} bytes at ${end + begin.byteLength}`;
  } finally {
    closeSync(fd);
  }
}

/**
 * Removes segment `activeId` (a rotation just created it and it holds only an aborted transaction: its base LSN is
 * above every commit) and fsyncs the directory, so the newest segment left is the sealed one before it, with no
 * successor: a crash between a seal and the next segment's creation. Throws unless that is what is left.
 */
export function dropToSealed(dir: string, activeId: number, lastCommitLsn: number): string {
  const newest = segmentPath(dir, activeId);
  const base = headerOf(newest).baseLsn;
  if (base <= lastCommitLsn)
    throw new Error(`segment ${activeId} starts at LSN ${base}, not above the last commit ${lastCommitLsn}`);
  const sealed = segmentPath(dir, activeId - 1);
  if (!headerOf(sealed).sealed) throw new Error(`segment ${activeId - 1} is not sealed after a rotation`);
  unlinkSync(newest);
  fsyncDir(dir);
  return `sealed ${sealed} is the newest segment (removed ${newest}, base LSN ${base})`;
}
