/**
 * Checks one crash image with the real `Wal.open` (real recovery), then the docs/crash-testing.md invariants:
 * the log opens (I11), the history is an acknowledged-covering prefix (I1–I3), LSNs increase and a `commitTx`
 * transaction never spans segments (I4), `nextLsn` is past everything recovered and the fence, and a write after
 * recovery replays on a second open together with the same history (I8).
 */

import { crc32 } from "node:zlib";
import { isWalError, type JsonValue, Wal } from "@lora/wal";
import { type PlantedBug, withTestingHooks } from "@lora/wal/testing";
import type { SimFS } from "@lora/wal-segment/testing";
import { checkHistory, type Expectation, type Finding, type RecoveredTx } from "./oracle.js";
import { openOptions, WAL_DIR, type Workload } from "./workloads.js";

export interface ImageVerdict {
  readonly findings: Finding[];
  readonly required: number;
}

/** True when a torn write in the image landed a non-prefix set of its sectors (a hole followed by data). */
export function hasReorderedSectors(description: string): boolean {
  for (const m of description.matchAll(/sectors \[([\d,]*)\] of \d+ landed/g)) {
    const sectors = (m[1] ?? "").split(",").map(Number);
    if (!sectors.every((v, i) => v === i)) return true;
  }
  return false;
}

/** A content hash of the log directory of an image, for skipping identical crash states. */
export function imageKey(fs: SimFS): string {
  let names: string[];
  try {
    names = fs.listSync(WAL_DIR);
  } catch {
    return "no-dir";
  }
  const parts: string[] = [];
  for (const name of names) {
    if (name.startsWith(".")) continue;
    const bytes = fs.readFileSync(`${WAL_DIR}/${name}`);
    parts.push(`${name}:${bytes.byteLength}:${crc32(bytes)}`);
  }
  return parts.join("|");
}

function errorText(e: unknown): string {
  if (isWalError(e)) return `${e.code}: ${e.message}`;
  return e instanceof Error ? e.message : String(e);
}

async function openAndCollect(
  w: Workload,
  fs: SimFS,
  fence: number,
  bugs: readonly PlantedBug[],
): Promise<{ wal: Wal<JsonValue>; txs: RecoveredTx[]; segments: { first: number; last: number }[] }> {
  const txs: RecoveredTx[] = [];
  const r = await Wal.open(
    WAL_DIR,
    withTestingHooks(
      openOptions(w, fs, fence, (t) => void txs.push(t)),
      { plantedBugs: bugs },
    ),
  );
  const segments = (r.replay?.segments ?? []).map((s) => ({ first: s.firstLsn ?? -1, last: s.lastLsn ?? -1 }));
  return { wal: r.wal, txs, segments };
}

export async function checkCrashImage(
  w: Workload,
  fs: SimFS,
  description: string,
  exp: Expectation,
  bugs: readonly PlantedBug[],
): Promise<ImageVerdict> {
  let first: Awaited<ReturnType<typeof openAndCollect>>;
  try {
    first = await openAndCollect(w, fs, exp.fence, bugs);
  } catch (e) {
    // Every state a power loss can leave opens in the default mode, torn writes whose sectors landed out of order
    // included (the unsynced window of the damage rules): a refused image is a violation.
    const reordered = hasReorderedSectors(description) ? " (a torn write whose sectors landed out of order)" : "";
    return {
      findings: [{ kind: "unopenable", message: `open failed${reordered}: ${errorText(e)}`, count: 1 }],
      required: 0,
    };
  }
  const { wal, txs, segments } = first;
  const verdict = checkHistory(txs, exp);
  const findings = [...verdict.findings];

  const viaCommitTx = new Set(exp.attempted.filter((t) => t.viaCommitTx).map((t) => t.beginLsn));
  const segmentOf = (lsn: number) => segments.findIndex((s) => s.first <= lsn && lsn <= s.last);
  for (const tx of txs) {
    if (viaCommitTx.has(tx.beginLsn) && segmentOf(tx.beginLsn) !== segmentOf(tx.commitLsn)) {
      findings.push({
        kind: "lsn",
        message: `commitTx transaction ${tx.beginLsn}..${tx.commitLsn} spans two segments (see docs/format.md)`,
        count: 1,
      });
      break;
    }
  }
  const maxSeen = Math.max(exp.fence, ...txs.map((t) => t.commitLsn), ...segments.map((s) => s.last));
  if (wal.nextLsn() <= maxSeen) {
    findings.push({
      kind: "lsn",
      message: `nextLsn ${wal.nextLsn()} after recovery is not above ${maxSeen}`,
      count: 1,
    });
  }

  // Write after recovery, close, open again: the same history plus the new transaction (I8).
  try {
    const extra = await wal.commitTx(["post-recovery.0"]);
    await wal.close();
    const again = await openAndCollect(w, fs, exp.fence, bugs);
    await again.wal.close();
    const want = [...txs, { beginLsn: extra?.beginLsn, commitLsn: extra?.commitLsn, events: ["post-recovery.0"] }];
    if (JSON.stringify(again.txs) !== JSON.stringify(want)) {
      const lostExtra = !again.txs.some((t) => t.events[0] === "post-recovery.0");
      findings.push({
        kind: lostExtra ? "lost" : "idempotence",
        message: lostExtra
          ? `a commit made after recovery is missing on the next open (${again.txs.length} transactions, expected ${want.length})`
          : `the second open recovered a different history (${again.txs.length} transactions, expected ${want.length})`,
        count: 1,
      });
    }
  } catch (e) {
    await wal.close().catch(() => undefined);
    findings.push({
      kind: "idempotence",
      message: `write after recovery, close, reopen failed: ${errorText(e)}`,
      count: 1,
    });
  }
  return { findings, required: verdict.required };
}
