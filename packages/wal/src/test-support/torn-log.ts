/** A segment whose last transaction was begun and its mutation torn: the setup of the torn-tail cut tests. */

import { bytesCodec, encodeRecord } from "@lora/wal-codec";
import { encodeSegmentHeader } from "@lora/wal-segment";

/**
 * The bytes of an unsealed segment (base LSN 1) of `transactions` committed transactions, each a txBegin, one mutation
 * whose event is `eventBytes` bytes of `i + 1` (the i-th transaction from 0), and a txCommit; then a txBegin and
 * `tail(lsn, begin)`, given the next LSN and that begin's. Returns the bytes, the committed events in order, and the
 * offset where `tail` starts (where an open cuts the torn tail).
 */
export function tornLog(
  tail: (lsn: number, begin: number) => Uint8Array,
  { transactions = 3, eventBytes = 100 }: { transactions?: number; eventBytes?: number } = {},
): { bytes: Uint8Array; committed: Uint8Array[]; cutAt: number } {
  const parts: Uint8Array[] = [encodeSegmentHeader({ baseLsn: 1, sealed: false })];
  const committed: Uint8Array[] = [];
  let lsn = 1;
  for (let i = 0; i < transactions; i++) {
    const event = new Uint8Array(eventBytes).fill(i + 1);
    committed.push(event);
    const begin = lsn;
    parts.push(encodeRecord({ kind: "txBegin", lsn: lsn++ }, bytesCodec));
    parts.push(encodeRecord({ kind: "mutation", lsn: lsn++, txBeginLsn: begin, event }, bytesCodec));
    parts.push(encodeRecord({ kind: "txCommit", lsn: lsn++, txBeginLsn: begin }, bytesCodec));
  }
  const begin = lsn;
  parts.push(encodeRecord({ kind: "txBegin", lsn: lsn++ }, bytesCodec));
  const cutAt = parts.reduce((sum, p) => sum + p.byteLength, 0);
  parts.push(tail(lsn, begin));
  return { bytes: Buffer.concat(parts), committed, cutAt };
}
