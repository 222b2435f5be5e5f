/** Logs written record by record onto SimFS, for tests that need a log of a known shape. */

import { type JsonValue, jsonCodec, type PayloadCodec, type WalRecord } from "@lora/wal-codec";
import { SegmentWriter, segmentPath } from "@lora/wal-segment";
import type { SimFS } from "@lora/wal-segment/testing";

const codec = jsonCodec as PayloadCodec<unknown>;

/**
 * Write `segments` (each a list of records) as segments 1.. of `dir`, sealed but the last; each starts right after
 * the previous one's last record (the first at 1), as rotation does. Returns the segments' sizes in bytes.
 */
export async function writeSimLog(
  fs: SimFS,
  dir: string,
  segments: readonly (readonly WalRecord<unknown>[])[],
): Promise<number[]> {
  fs.mkdirpSync(dir);
  const sizes: number[] = [];
  let base = 1;
  for (const [i, records] of segments.entries()) {
    const w = await SegmentWriter.create(fs, segmentPath(dir, i + 1), base);
    for (const r of records) w.append(r, codec);
    if (i < segments.length - 1) await w.seal();
    else await w.flush();
    await w.close();
    sizes.push(fs.readFileSync(segmentPath(dir, i + 1)).byteLength);
    base = (records.at(-1)?.lsn ?? base) + 1;
  }
  return sizes;
}

/** `segments` segments of `perSegment` one-event transactions (three records each); the event of each is `event(lsn)`. */
export function evenLog(
  segments: number,
  perSegment: number,
  event: (lsn: number) => JsonValue = (lsn) => lsn,
): WalRecord<unknown>[][] {
  const out: WalRecord<unknown>[][] = [];
  let lsn = 1;
  for (let s = 0; s < segments; s++) {
    const records: WalRecord<unknown>[] = [];
    for (let t = 0; t < perSegment; t++) {
      records.push(
        { kind: "txBegin", lsn },
        { kind: "mutation", lsn: lsn + 1, txBeginLsn: lsn, event: event(lsn) },
        { kind: "txCommit", lsn: lsn + 2, txBeginLsn: lsn },
      );
      lsn += 3;
    }
    out.push(records);
  }
  return out;
}

/**
 * Eight segments of ten one-event transactions (segment 6 holds lsns 151..180), with a record of each of segments
 * 1 to 5 damaged: a walk that reads those segments' records throws `WAL_CORRUPT`, one that seeks past them does not.
 */
export async function logDamagedBeforeSegment6(fs: SimFS, dir: string): Promise<void> {
  await writeSimLog(fs, dir, evenLog(8, 10));
  for (let id = 1; id <= 5; id++) {
    const path = segmentPath(dir, id);
    const bytes = fs.readFileSync(path);
    bytes[100] = (bytes[100] as number) ^ 0xff;
    fs.writeFileSync(path, bytes);
  }
}
