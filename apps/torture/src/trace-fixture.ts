/**
 * Hand-written strace output for tier D's tests (no strace, no writer process): the lines a writer of one segment
 * would leave, with the real bytes of a segment header and of `commitTx` transactions, so the crash states the
 * model builds from it open with the real `Wal.open`.
 */

import { type JsonValue, jsonCodec } from "@lora/wal";
import { encodeRecord } from "@lora/wal-codec";
import { encodeSegmentHeader } from "@lora/wal-segment";
import { traceEvents } from "./trace-workload.js";

/** A `-xx` string argument. */
export const hex = (s: string | Uint8Array) =>
  `"${[...(typeof s === "string" ? Buffer.from(s) : s)].map((b) => `\\x${b.toString(16).padStart(2, "0")}`).join("")}"`;

/** Commit `index`'s transaction as `commitTx` writes it at `beginLsn` (TxBegin, MutationBatch, TxCommit). */
export function commitBytes(index: number, beginLsn: number): Uint8Array {
  return Buffer.concat([
    encodeRecord<JsonValue>({ kind: "txBegin", lsn: beginLsn }, jsonCodec),
    encodeRecord<JsonValue>(
      { kind: "mutationBatch", lsn: beginLsn + 1, txBeginLsn: beginLsn, events: traceEvents(index) },
      jsonCodec,
    ),
    encodeRecord<JsonValue>({ kind: "txCommit", lsn: beginLsn + 2, txBeginLsn: beginLsn }, jsonCodec),
  ]);
}

/** The writer's root and ack file in the fixtures. */
export const ROOT = "/r";
export const ACKS = "/r/acks";

/**
 * A writer that creates segment 1 (header fsynced, directory fsynced), writes commit 0 at LSN 1..3 with
 * `pwrite64`, fdatasyncs it unless `datasync` is false, then writes `claims` (lines) to the ack file.
 */
export function oneCommitTrace(opts: { datasync: boolean; claims: readonly string[] }): string {
  const header = encodeSegmentHeader({ baseLsn: 1, sealed: false });
  const tx = commitBytes(0, 1);
  const lines = [
    `10 1.0 mkdir(${hex(`${ROOT}/wal`)}, 0777) = 0`,
    `10 1.1 openat(AT_FDCWD, ${hex(ACKS)}, O_WRONLY|O_CREAT|O_APPEND|O_CLOEXEC, 0666) = 5`,
    `11 1.2 openat(AT_FDCWD, ${hex(`${ROOT}/wal/0000000001.wal`)}, O_RDWR|O_CREAT|O_EXCL|O_CLOEXEC, 0666) = 21`,
    `11 1.3 pwrite64(21, ${hex(header)}, 32, 0) = 32`,
    "11 1.4 fsync(21) = 0",
    `12 1.5 openat(AT_FDCWD, ${hex(`${ROOT}/wal`)}, O_RDONLY|O_CLOEXEC) = 22`,
    "12 1.6 fsync(22) = 0",
    "12 1.7 close(22) = 0",
    `11 1.8 pwrite64(21, ${hex(tx)}, ${tx.byteLength}, 32) = ${tx.byteLength}`,
    ...(opts.datasync ? ["12 1.9 fdatasync(21) = 0"] : []),
    ...opts.claims.map((c, i) => `10 2.${i} write(5, ${hex(`${c}\n`)}, ${c.length + 1}) = ${c.length + 1}`),
  ];
  return `${lines.join("\n")}\n`;
}
