/**
 * The oracle (docs/crash-testing.md): what a recovered history must look like, given what the writer attempted and
 * what it saw acknowledged. Pure: the tiers feed it the attempted commits (in commit order) and a recovered list.
 *
 * - I2/I3: the recovered transactions are exactly the first m attempted ones above the fence, each whole, with
 *   the same LSNs;
 * - I1: m covers every attempted commit whose commit LSN is at or below the acknowledged watermark;
 * - I4: begin < commit inside each, commit LSNs strictly increase.
 */

import type { ViolationKind } from "./result.js";

/** A transaction that got a commit record, as the writer saw it. */
export interface AttemptedTx {
  readonly id: string;
  readonly beginLsn: number;
  readonly commitLsn: number;
  readonly events: readonly string[];
  /** Written by `commitTx` (one begin, one batch, one commit): it must never span two segments. */
  readonly viaCommitTx: boolean;
}

/** A transaction as replay handed it over. */
export interface RecoveredTx {
  readonly beginLsn: number;
  readonly commitLsn: number;
  readonly events: readonly unknown[];
}

export interface Expectation {
  /** Every transaction that got a commit record, sorted by commit LSN. */
  readonly attempted: readonly AttemptedTx[];
  /** Records at or below it are in the caller's snapshot: transactions with `beginLsn <= fence` are not replayed. */
  readonly fence: number;
  /** Every attempted commit with `commitLsn <= requiredLsn` must be recovered. */
  readonly requiredLsn: number;
}

export interface Finding {
  readonly kind: ViolationKind;
  readonly message: string;
  /** How many acknowledged commits the finding accounts for (for `lost`). */
  readonly count: number;
}

export interface HistoryVerdict {
  readonly findings: Finding[];
  /** Acknowledged commits this check required. */
  readonly required: number;
  /** How many leading attempted transactions were recovered intact. */
  readonly matched: number;
}

function sameTx(r: RecoveredTx, a: AttemptedTx): boolean {
  if (r.beginLsn !== a.beginLsn || r.commitLsn !== a.commitLsn || r.events.length !== a.events.length) return false;
  return r.events.every((e, i) => e === a.events[i]);
}

function show(r: RecoveredTx): string {
  const first = String(r.events[0] ?? "").slice(0, 24);
  return `tx ${r.beginLsn}..${r.commitLsn} (${r.events.length} events, first "${first}")`;
}

/** The attempted transactions a replay above `fence` should hand over, in order. */
export function expectedAbove(exp: Expectation): AttemptedTx[] {
  return exp.attempted.filter((t) => t.beginLsn > exp.fence);
}

export function checkHistory(recovered: readonly RecoveredTx[], exp: Expectation): HistoryVerdict {
  const findings: Finding[] = [];
  const expected = expectedAbove(exp);
  let required = 0;
  while (required < expected.length && (expected[required] as AttemptedTx).commitLsn <= exp.requiredLsn) required++;

  for (let i = 0; i < recovered.length; i++) {
    const r = recovered[i] as RecoveredTx;
    const prev = recovered[i - 1];
    if (r.beginLsn >= r.commitLsn || (prev !== undefined && r.commitLsn <= prev.commitLsn)) {
      findings.push({ kind: "lsn", message: `LSNs out of order at ${show(r)}`, count: 1 });
      break;
    }
  }

  let matched = 0;
  while (matched < recovered.length && matched < expected.length) {
    if (!sameTx(recovered[matched] as RecoveredTx, expected[matched] as AttemptedTx)) break;
    matched++;
  }
  if (matched < recovered.length) {
    const r = recovered[matched] as RecoveredTx;
    const later = expected.findIndex((a, j) => j > matched && sameTx(r, a));
    if (later > matched) {
      findings.push({
        kind: "hole",
        message: `hole: ${show(r)} recovered but the earlier commit ${(expected[matched] as AttemptedTx).id} is missing`,
        count: 1,
      });
    } else {
      const what = matched < expected.length ? `instead of ${(expected[matched] as AttemptedTx).id}` : "past the end";
      findings.push({
        kind: "phantom",
        message: `phantom: ${show(r)} recovered at position ${matched} ${what} (never committed, aborted, or not whole)`,
        count: 1,
      });
    }
  }
  if (matched < required) {
    const missing = expected.slice(matched, required).map((t) => t.id);
    findings.push({
      kind: "lost",
      message: `lost ${required - matched} acknowledged commit(s): ${missing.slice(0, 5).join(", ")}${missing.length > 5 ? ", ..." : ""} (recovered ${recovered.length}, required ${required})`,
      count: required - matched,
    });
  }
  return { findings, required, matched };
}
