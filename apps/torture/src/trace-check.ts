/**
 * Tier D, step 4: what a crash state must recover, from the writer's claims before the crash point, and the check of
 * one materialised state with the real `Wal.open` (default recovery) or `KvStore.open`.
 *
 * A commit is REQUIRED when its durable `ack` precedes the crash point, or its LSN is at or below the highest
 * `synced` before it, unless it is at or below the fence (the last `ckpt`). Any other commit the writer issued may
 * be there or not, but what is there is a prefix of the writer's commits in LSN order above the fence: whole,
 * at the LSN the writer got, with no hole.
 */

import { isWalError, type JsonValue, jsonCodec, Wal } from "@lora/wal";
// The kv-store example, bundled from its sources (as in trace-child.ts).
import { KvStore } from "../../../examples/kv-store/src/kv-store.js";
import type { LogicalOp } from "./trace-parse.js";
import { traceEvents } from "./trace-workload.js";

export type ProblemKind = "lost" | "phantom" | "hole" | "lsn" | "unopenable" | "idempotence";
export interface StateVerdict {
  /** Commits (puts) the state was required to hold. */
  readonly acked: number;
  readonly problems: { readonly kind: ProblemKind; readonly message: string }[];
}

/** The writer's commits as the whole trace tells them: each commit index's LSN, and the indices in LSN order. */
export interface Commits {
  readonly lsnOf: ReadonlyMap<number, number>;
  readonly order: readonly number[];
}

export function commitsOf(ops: readonly LogicalOp[]): Commits {
  const lsnOf = new Map<number, number>();
  for (const op of ops) if ((op.kind === "ack" || op.kind === "wrote") && op.lsn !== null) lsnOf.set(op.index, op.lsn);
  const order = [...lsnOf.keys()].sort((a, b) => (lsnOf.get(a) as number) - (lsnOf.get(b) as number));
  return { lsnOf, order };
}

/** What the claims before `point` require. */
export interface Required {
  readonly fence: number;
  /** Commit index -> LSN (kv: put index -> 0). */
  readonly commits: ReadonlyMap<number, number>;
}

export function requiredAt(ops: readonly LogicalOp[], point: number, commits: Commits): Required {
  let fence = 0;
  let synced = 0;
  const acked = new Map<number, number>();
  for (let i = 0; i < point; i++) {
    const op = ops[i] as LogicalOp;
    if (op.kind === "ckpt") fence = Math.max(fence, op.s);
    else if (op.kind === "synced") synced = Math.max(synced, op.lsn);
    else if (op.kind === "ack") acked.set(op.index, op.lsn ?? 0);
  }
  for (const [index, lsn] of commits.lsnOf) if (lsn <= synced) acked.set(index, lsn);
  if (fence > 0) for (const [index, lsn] of acked) if (lsn <= fence && lsn > 0) acked.delete(index);
  return { fence, commits: acked };
}

async function openCollect(dir: string, fence: number) {
  const txs: { commitLsn: number; events: JsonValue[] }[] = [];
  const { wal } = await Wal.open<JsonValue>(dir, {
    codec: jsonCodec,
    // No crash follows (the second open is in-process after close): the fdatasyncs would only cost time.
    syncMode: "none",
    checkpointLsn: fence,
    onTransaction: (t) => void txs.push({ commitLsn: t.commitLsn, events: t.events }),
  });
  return { wal, txs };
}

const errText = (e: unknown) =>
  isWalError(e) ? `${e.code}: ${e.message}` : e instanceof Error ? e.message : String(e);

/** The commit index a recovered transaction names (its events' id), NaN when it names none. */
function indexOf(events: readonly JsonValue[]): number {
  const id = (events[0] as { id?: unknown } | undefined)?.id;
  return typeof id === "string" && /^t\d+$/.test(id) ? Number(id.slice(1)) : Number.NaN;
}

/** Checks one materialised WAL directory against what the claims require. */
export async function checkWalState(dir: string, req: Required, commits: Commits): Promise<StateVerdict> {
  const problems: StateVerdict["problems"] = [];
  let first: Awaited<ReturnType<typeof openCollect>>;
  try {
    first = await openCollect(dir, req.fence);
  } catch (e) {
    return { acked: 0, problems: [{ kind: "unopenable", message: `open failed: ${errText(e)}` }] };
  }
  const position = new Map(commits.order.map((index, p) => [index, p]));
  // Where the recovered history must start: the writer's first commit above the fence.
  let expect = commits.order.findIndex((index) => (commits.lsnOf.get(index) as number) > req.fence);
  let lastLsn = 0;
  const present = new Set<number>();
  for (const t of first.txs) {
    const index = indexOf(t.events);
    const lsn = commits.lsnOf.get(index);
    if (lsn === undefined || JSON.stringify(t.events) !== JSON.stringify(traceEvents(index)))
      problems.push({
        kind: "phantom",
        message: `recovered a transaction at LSN ${t.commitLsn} that is not a commit of the writer whole (${t.events.length} events, id t${index})`,
      });
    else if (lsn !== t.commitLsn)
      problems.push({ kind: "lsn", message: `commit ${index} written at LSN ${lsn}, recovered at ${t.commitLsn}` });
    if (t.commitLsn <= lastLsn) problems.push({ kind: "lsn", message: `commit LSN ${t.commitLsn} after ${lastLsn}` });
    const p = position.get(index);
    if (p !== undefined && p !== expect)
      problems.push({
        kind: "hole",
        message: `commit ${index} (LSN ${lsn}) recovered where commit ${commits.order[expect] ?? "(none)"} should come`,
      });
    if (p !== undefined) expect = p + 1;
    lastLsn = t.commitLsn;
    present.add(index);
  }
  for (const [index, lsn] of req.commits)
    if (!present.has(index))
      problems.push({ kind: "lost", message: `durable commit ${index} (LSN ${lsn}) is missing` });
  // A new commit, then a second open: the same history plus it.
  try {
    const info = await first.wal.commitTx([{ id: "post" }]);
    await first.wal.close();
    const second = await openCollect(dir, req.fence);
    await second.wal.close();
    const before = first.txs.map((t) => t.commitLsn).join(",");
    const after = second.txs
      .slice(0, -1)
      .map((t) => t.commitLsn)
      .join(",");
    const tail = second.txs[second.txs.length - 1];
    if (before !== after || tail?.commitLsn !== info?.commitLsn)
      problems.push({
        kind: "idempotence",
        message: `second open recovered [${after}] + ${tail?.commitLsn}, first [${before}] + ${info?.commitLsn}`,
      });
  } catch (e) {
    problems.push({ kind: "idempotence", message: `write or reopen after recovery failed: ${errText(e)}` });
  }
  return { acked: req.commits.size, problems };
}

/**
 * A crash state of the kv-store trace: the store opens (snapshot + log), every key holds the value of its last
 * acknowledged put, or of the one put in flight at the crash (the next one after the last acknowledgement); a
 * second open sees the same map.
 */
export async function checkKvState(dir: string, req: Required): Promise<StateVerdict> {
  const acked = [...req.commits.keys()];
  const last = acked.length === 0 ? -1 : Math.max(...acked);
  const problems: StateVerdict["problems"] = [];
  const read = async () => {
    const store = await KvStore.open(dir, { segmentTargetBytes: 2048, syncMode: "none" });
    const m = new Map<string, string>();
    for (let k = 0; k < 7; k++) m.set(`k${k}`, JSON.stringify(store.get(`k${k}`) ?? null));
    await store.close();
    return m;
  };
  let first: Map<string, string>;
  try {
    first = await read();
  } catch (e) {
    return { acked: 0, problems: [{ kind: "unopenable", message: `KvStore.open failed: ${errText(e)}` }] };
  }
  for (let k = 0; k < 7; k++) {
    // The puts of key k: i with i % 7 === k. Allowed: the last acknowledged one, or the one in flight (last + 1).
    const ackedPuts = acked.filter((i) => i % 7 === k);
    const want = ackedPuts.length === 0 ? null : Math.max(...ackedPuts);
    const allowed = new Set([JSON.stringify(want === null ? null : traceEvents(want))]);
    if ((last + 1) % 7 === k) allowed.add(JSON.stringify(traceEvents(last + 1)));
    const got = first.get(`k${k}`) ?? "null";
    if (!allowed.has(got))
      problems.push({
        kind: got === "null" || want !== null ? "lost" : "phantom",
        message: `key k${k} holds ${got.slice(0, 60)}, want the value of put ${want ?? "(none)"}`,
      });
  }
  try {
    const second = await read();
    if ([...second].some(([k, v]) => first.get(k) !== v))
      problems.push({ kind: "idempotence", message: "a second KvStore.open sees another map" });
  } catch (e) {
    problems.push({ kind: "idempotence", message: `second KvStore.open failed: ${errText(e)}` });
  }
  return { acked: acked.length, problems };
}
