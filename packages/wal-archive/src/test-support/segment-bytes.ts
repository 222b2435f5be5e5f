/** Segment files built by hand, for tests that archive bytes the writer would never produce. */

import { bytesCodec, encodeRecord, type WalRecord } from "@lora/wal-codec";

/** A segment's bytes: `header` (32 bytes, as given), then `records` framed with the bytes codec. */
export function segmentBytes(header: Uint8Array, records: readonly WalRecord<Uint8Array>[]): Uint8Array {
  const parts = [header, ...records.map((r) => encodeRecord(r, bytesCodec))];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
