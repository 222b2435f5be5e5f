/**
 * Archives the real archiver builds from real logs, and what a restored log holds, for the `archive` and `restore`
 * tests (directory and S3).
 */

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Wal } from "@lora/wal";
import { type ArchiveStore, startArchiver } from "@lora/wal-archive";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { decodeSegmentHeader, SEGMENT_HEADER_BYTES } from "@lora/wal-segment";
import { segmentFiles } from "./helpers.js";

/** A committed transaction of the original log. */
export interface Tx {
  readonly beginLsn: number;
  readonly commitLsn: number;
  readonly events: JsonValue[];
}

/**
 * Write `count` JSON transactions (two events each, of varying size) on 1 KiB segments with an archiver attached to
 * `store`, flushing it after every commit (so the active segment goes out as one piece per transaction); then stop
 * it and close the log.
 */
export async function archivedLog(dir: string, store: ArchiveStore, count: number): Promise<Tx[]> {
  const { wal } = await Wal.open<JsonValue>(dir, { codec: jsonCodec, segmentTargetBytes: 1024 });
  // A long interval: the flushes decide where the pieces end.
  const archiver = startArchiver(wal, { store, intervalMs: 60_000 });
  const txs: Tx[] = [];
  try {
    for (let k = 0; k < count; k++) {
      const events: JsonValue[] = [{ k, pad: "x".repeat((k % 5) * 20) }, k];
      const info = await wal.commitTx(events);
      if (info === null) throw new Error("commitTx wrote nothing");
      txs.push({ beginLsn: info.beginLsn, commitLsn: info.commitLsn, events });
      await archiver.flush();
    }
  } finally {
    await archiver.stop();
    await wal.close();
  }
  return txs;
}

/** The committed transactions `Wal.open` delivers for `dir` (opened with `checkpointLsn`, then closed). */
export async function openedTransactions(dir: string, checkpointLsn?: number): Promise<Tx[]> {
  const txs: Tx[] = [];
  const { wal } = await Wal.open<JsonValue>(dir, {
    codec: jsonCodec,
    ...(checkpointLsn === undefined ? {} : { checkpointLsn }),
    onTransaction: (tx) => {
      txs.push({ beginLsn: tx.beginLsn, commitLsn: tx.commitLsn, events: tx.events });
    },
  });
  await wal.close();
  return txs;
}

/** Each segment file of `dir` with its size and the base LSN its header names. */
export async function segmentFacts(dir: string): Promise<{ name: string; size: number; baseLsn: number }[]> {
  const out: { name: string; size: number; baseLsn: number }[] = [];
  for (const name of await segmentFiles(dir)) {
    const bytes = await readFile(join(dir, name));
    out.push({
      name,
      size: bytes.byteLength,
      baseLsn: decodeSegmentHeader(bytes.subarray(0, SEGMENT_HEADER_BYTES)).baseLsn,
    });
  }
  return out;
}
