/** A committed transaction as a segment writer's tests append it. */

import type { WalRecord } from "@lora/wal-codec";

/** Begin, one mutation of `eventBytes` bytes (each the begin LSN's low byte) and commit, at LSNs `begin`..`begin + 2`. */
export function transaction(begin: number, eventBytes = 50): WalRecord<Uint8Array>[] {
  return [
    { kind: "txBegin", lsn: begin },
    { kind: "mutation", lsn: begin + 1, txBeginLsn: begin, event: new Uint8Array(eventBytes).fill(begin) },
    { kind: "txCommit", lsn: begin + 2, txBeginLsn: begin },
  ];
}
