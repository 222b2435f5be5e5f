/** Test helpers: write segment files record by record, with or without damage. */

import { appendFile, readFile, writeFile } from "node:fs/promises";
import { type JsonValue, jsonCodec, type WalRecord } from "@lora/wal-codec";
import { createNodeFileSystem, SegmentWriter, segmentPath } from "@lora/wal-segment";

export type Rec = WalRecord<JsonValue>;
export const fs = createNodeFileSystem();

/** Write segment `id` of `dir` holding `records`; returns its path. */
export async function writeSegment(
  dir: string,
  id: number,
  baseLsn: number,
  records: readonly Rec[],
  options: { sealed?: boolean } = {},
): Promise<string> {
  const path = segmentPath(dir, id);
  const w = await SegmentWriter.create(fs, path, baseLsn);
  for (const r of records) w.append(r, jsonCodec);
  if (options.sealed) await w.seal();
  else await w.flush();
  await w.close();
  return path;
}

/** A committed transaction begun at `begin` with the given events as one batch. */
export function tx(begin: number, events: JsonValue[]): Rec[] {
  return [
    { kind: "txBegin", lsn: begin },
    { kind: "mutationBatch", lsn: begin + 1, txBeginLsn: begin, events },
    { kind: "txCommit", lsn: begin + 2, txBeginLsn: begin },
  ];
}

export async function flipBit(path: string, byteOffset: number, bit = 0): Promise<void> {
  const bytes = await readFile(path);
  bytes[byteOffset] = (bytes[byteOffset] as number) ^ (1 << bit);
  await writeFile(path, bytes);
}

export async function appendBytes(path: string, bytes: Uint8Array): Promise<void> {
  await appendFile(path, bytes);
}
