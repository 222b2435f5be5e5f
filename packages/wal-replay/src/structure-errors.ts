/**
 * The errors replay throws for a log whose structure breaks the replay rules (`WAL_MALFORMED`) or whose fence lies
 * inside a transaction (`WAL_FENCE_IN_TRANSACTION`).
 *
 * Why the messages are built here and not where they are thrown: V8's optimizing compiler merged the number-to-string
 * conversions of several never-taken `throw` messages in the assembler's per-record method (`${lsn}` in each) into
 * one conversion it computed on every call, before the branches. That cost a conversion per record and kept ~400 KB
 * of fresh strings alive in the number-string cache at every young-generation collection (~20 % of replay's time went
 * to scavenges). With each message behind its own function call, nothing is converted until a check fails.
 */

import { WalError } from "@lora/wal-codec";

/** `WAL_MALFORMED` with the segment and, when known, the LSN of the offending record in its details. */
export function malformed(message: string, path: string, lsn?: number): WalError {
  return new WalError("WAL_MALFORMED", `WAL structure is malformed: ${message}`, {
    details: lsn === undefined ? { path, segment: path } : { path, segment: path, lsn },
  });
}

/** Thrown (before any fence error is completed with the fence to use) for a fence inside a transaction. */
export function fenceInTransaction(fence: number, beginLsn: number, lsn: number, path: string): WalError {
  return new WalError(
    "WAL_FENCE_IN_TRANSACTION",
    `the fence ${fence} is inside the transaction begun at lsn ${beginLsn} (its record at lsn ${lsn} is above the fence); a snapshot must be taken at a transaction boundary`,
    { details: { path, segment: path, lsn } },
  );
}

export function lsnBelowBase(lsn: number, baseLsn: number, path: string): WalError {
  return malformed(`record lsn ${lsn} is below segment base_lsn ${baseLsn} (${path})`, path, lsn);
}

export function lsnNotRising(lsn: number, previous: number, path: string): WalError {
  return malformed(`record lsn ${lsn} is not greater than previous lsn ${previous} (${path})`, path, lsn);
}

export function duplicateBegin(lsn: number, path: string): WalError {
  return malformed(`duplicate tx begin at lsn ${lsn}`, path, lsn);
}

export function missingBegin(what: string, lsn: number, begin: number, path: string): WalError {
  return malformed(`${what} at lsn ${lsn} references missing tx begin ${begin}`, path, lsn);
}

export function futureSnapshot(lsn: number, snapshot: number, path: string): WalError {
  return malformed(`checkpoint at lsn ${lsn} points to future snapshot lsn ${snapshot}`, path, lsn);
}

export function snapshotRegressed(lsn: number, snapshot: number, previous: number, path: string): WalError {
  return malformed(`checkpoint snapshot lsn ${snapshot} regressed below previous checkpoint ${previous}`, path, lsn);
}

export function baseNotRising(baseLsn: number, previousBase: number, path: string): WalError {
  return malformed(`segment base_lsn ${baseLsn} is not greater than previous base_lsn ${previousBase} (${path})`, path);
}

export function baseNotAboveRecords(baseLsn: number, lastLsn: number, path: string): WalError {
  return malformed(`segment base_lsn ${baseLsn} is not greater than previous record lsn ${lastLsn} (${path})`, path);
}
