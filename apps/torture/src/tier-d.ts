/**
 * Tier D: crash states computed from the real process's system calls (the ALICE method, Pillai et al., OSDI 2014).
 * The writer (dist/trace-child.js: perCommit commits, rotations, a checkpoint with truncation, close) runs under
 * `strace` on a real directory with the real Node seam; the trace becomes logical operations (trace-parse.ts), the
 * static checks run on them, and crash states under the strict and the ordered persistence models
 * (trace-model.ts) are materialised as real directories and opened with the real `Wal.open` (default recovery):
 * every acknowledged commit above the fence is there, nothing is there half or out of order, LSNs increase, a
 * second open recovers the same history, and the log takes a new commit.
 *
 * strace is installed with apt-get when missing; when it cannot be, the tier is skipped (extra.skipped = 1).
 */

import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { crc32 } from "node:zlib";
import { isWalError, type JsonValue, jsonCodec, Wal } from "@lora/wal";
// The kv-store example, bundled from its sources (as in trace-child.ts).
import { KvStore } from "../../../examples/kv-store/src/kv-store.js";
import { TierResult } from "./result.js";
import { crashStatesAt, materialise, staticCheck } from "./trace-model.js";
import { type LogicalOp, parseTrace } from "./trace-parse.js";
import { type SeamBug, traceEvents } from "./trace-workload.js";

const TRACED =
  "openat,open,write,pwrite64,writev,pwritev,fsync,fdatasync,sync_file_range,ftruncate,fallocate,rename,renameat,renameat2,unlink,unlinkat,mkdir,mkdirat,close,dup,dup2,dup3";

export interface TierDOptions {
  readonly seed: number;
  /** Traces to record (each a fresh writer). */
  readonly traces: number;
  readonly commits: number;
  /** Strict-model subsets sampled per crash point. */
  readonly strictSamples: number;
  /** Cap on distinct crash states checked per trace (seeded choice beyond it). */
  readonly maxStates: number;
  readonly bug?: SeamBug;
  readonly stopOnFirst?: boolean;
  /** False: the static findings are counted (extra.staticFindings) but not violations, so only crash states judge. */
  readonly staticViolations?: boolean;
  /** Traces of the kv-store example (after the WAL traces, numbered on), its crash states checked by KvStore.open. */
  readonly kvTraces?: number;
  /** Only these trace indices (a replay). */
  readonly cases?: readonly number[];
}

/**
 * The bounded run: a few traces, a count-bounded number of distinct crash states each. `--tier D` alone checks more
 * (every distinct state of 3 traces, up to 400 each); the default run and --smoke keep it to a few seconds.
 */
export function tierDOptions(seed: number, smoke: boolean, long: boolean, alone: boolean): TierDOptions {
  return {
    seed,
    traces: long ? 6 : alone ? 3 : smoke ? 1 : 2,
    kvTraces: 1,
    commits: 24,
    strictSamples: 4,
    maxStates: long ? 1000 : alone ? 400 : smoke ? 60 : 80,
  };
}

let straceChecked: string | null | undefined;

/** The strace binary, installing it with apt-get when missing; null (and why) when it cannot be had. */
export function ensureStrace(): { path: string | null; why: string } {
  const find = () => {
    const r = spawnSync("sh", ["-c", "command -v strace"], { encoding: "utf8" });
    return r.status === 0 ? r.stdout.trim() : null;
  };
  if (straceChecked !== undefined)
    return { path: straceChecked, why: straceChecked === null ? "strace not available" : "" };
  let path = find();
  if (path === null) {
    spawnSync("sh", ["-c", "(apt-get update && apt-get install -y strace) >/dev/null 2>&1"], { stdio: "ignore" });
    path = find();
  }
  if (path !== null) {
    // ptrace may be forbidden (containers without CAP_SYS_PTRACE): one trial run decides.
    const probe = spawnSync(path, ["-f", "-o", "/dev/null", "true"], { stdio: "ignore" });
    if (probe.status !== 0) path = null;
  }
  straceChecked = path;
  return { path, why: path === null ? "strace is missing and could not be installed (or ptrace is refused)" : "" };
}

const childPath = () => join(dirname(fileURLToPath(import.meta.url)), "trace-child.js");

function childScript(): string {
  // Built: dist/trace-child.js next to this file. From the sources (vitest): the build's copy.
  const here = childPath();
  if (existsSync(here)) return here;
  return join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "trace-child.js");
}

export function recordTrace(
  strace: string,
  root: string,
  commits: number,
  bug: SeamBug | "none",
  workload: "wal" | "kv",
): string {
  const out = join(root, "trace");
  execFileSync(
    strace,
    [
      "-f",
      "-ttt",
      "-xx",
      "-s",
      "65536",
      "-e",
      "abbrev=none",
      "-e",
      `trace=${TRACED}`,
      "-o",
      out,
      process.execPath,
      childScript(),
      "--dir",
      join(root, workload === "kv" ? "kv" : "wal"),
      "--workload",
      workload,
      "--ack",
      join(root, "acks"),
      "--commits",
      String(commits),
      "--bug",
      bug,
    ],
    { stdio: "ignore" },
  );
  return readFileSync(out, "utf8");
}

interface Recovered {
  readonly txs: { commitLsn: number; events: JsonValue[] }[];
}

async function openCollect(dir: string, fence: number): Promise<{ wal: Wal<JsonValue>; rec: Recovered }> {
  const txs: Recovered["txs"] = [];
  const { wal } = await Wal.open<JsonValue>(dir, {
    codec: jsonCodec,
    // No crash follows (the second open is in-process after close): the fdatasyncs would only cost time.
    syncMode: "none",
    checkpointLsn: fence,
    onTransaction: (t) => void txs.push({ commitLsn: t.commitLsn, events: t.events }),
  });
  return { wal, rec: { txs } };
}

const errText = (e: unknown) =>
  isWalError(e) ? `${e.code}: ${e.message}` : e instanceof Error ? e.message : String(e);

/** Checks one materialised state; returns the violation messages (kind, message). */
async function checkState(
  dir: string,
  ops: readonly LogicalOp[],
  point: number,
): Promise<{
  acked: number;
  problems: { kind: "lost" | "phantom" | "hole" | "lsn" | "unopenable" | "idempotence"; message: string }[];
}> {
  let fence = 0;
  const acked = new Map<number, number>(); // commit index -> lsn
  for (let i = 0; i < point; i++) {
    const op = ops[i] as LogicalOp;
    if (op.kind === "ckpt") fence = Math.max(fence, op.s);
    if (op.kind === "ack") acked.set(op.index, op.lsn);
  }
  const problems: Awaited<ReturnType<typeof checkState>>["problems"] = [];
  let first: Awaited<ReturnType<typeof openCollect>>;
  try {
    first = await openCollect(dir, fence);
  } catch (e) {
    return { acked: 0, problems: [{ kind: "unopenable", message: `open failed: ${errText(e)}` }] };
  }
  const got = first.rec.txs;
  const present = new Map<number, number>(); // index -> commitLsn
  let lastLsn = 0;
  let lastIndex = -1;
  for (const t of got) {
    const e0 = t.events[0] as { id?: string } | undefined;
    const index = Number((e0?.id ?? "").slice(1));
    const want = traceEvents(index);
    if (!Number.isInteger(index) || JSON.stringify(t.events) !== JSON.stringify(want))
      problems.push({
        kind: "phantom",
        message: `recovered a transaction that is not commit ${index} whole (${t.events.length} events)`,
      });
    if (t.commitLsn <= lastLsn) problems.push({ kind: "lsn", message: `commit LSN ${t.commitLsn} after ${lastLsn}` });
    if (lastIndex >= 0 && index !== lastIndex + 1)
      problems.push({ kind: "hole", message: `commit ${index} recovered right after commit ${lastIndex}` });
    const ackedLsn = acked.get(index);
    if (ackedLsn !== undefined && ackedLsn !== t.commitLsn)
      problems.push({
        kind: "lsn",
        message: `commit ${index} acknowledged at LSN ${ackedLsn}, recovered at ${t.commitLsn}`,
      });
    lastLsn = t.commitLsn;
    lastIndex = index;
    present.set(index, t.commitLsn);
  }
  let required = 0;
  for (const [index, lsn] of acked) {
    if (lsn <= fence) continue;
    required++;
    if (!present.has(index))
      problems.push({ kind: "lost", message: `acknowledged commit ${index} (LSN ${lsn}) is missing` });
  }
  // A new commit, then a second open: the same history plus it.
  try {
    const info = await first.wal.commitTx([{ id: "post" }]);
    await first.wal.close();
    const second = await openCollect(dir, fence);
    await second.wal.close();
    const before = got.map((t) => t.commitLsn).join(",");
    const after = second.rec.txs
      .slice(0, -1)
      .map((t) => t.commitLsn)
      .join(",");
    const tail = second.rec.txs[second.rec.txs.length - 1];
    if (before !== after || tail?.commitLsn !== info?.commitLsn)
      problems.push({
        kind: "idempotence",
        message: `second open recovered [${after}] + ${tail?.commitLsn}, first [${before}] + ${info?.commitLsn}`,
      });
  } catch (e) {
    problems.push({ kind: "idempotence", message: `write or reopen after recovery failed: ${errText(e)}` });
  }
  return { acked: required, problems };
}

/**
 * A crash state of the kv-store trace: the store opens (snapshot + log), every key holds the value of its last
 * acknowledged put, or of the one put in flight at the crash (the next one after the last acknowledgement); a
 * second open sees the same map.
 */
async function checkKvState(
  dir: string,
  ops: readonly LogicalOp[],
  point: number,
): Promise<{
  acked: number;
  problems: { kind: "lost" | "phantom" | "unopenable" | "idempotence"; message: string }[];
}> {
  const acked: number[] = [];
  for (let i = 0; i < point; i++) {
    const op = ops[i] as LogicalOp;
    if (op.kind === "ack") acked.push(op.index);
  }
  const last = acked.length === 0 ? -1 : Math.max(...acked);
  const problems: Awaited<ReturnType<typeof checkKvState>>["problems"] = [];
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

function stateKey(files: { path: string; bytes: Uint8Array }[], fence: number): string {
  return `${fence}|${files
    .map((f) => `${f.path}:${f.bytes.byteLength}:${crc32(f.bytes)}`)
    .sort()
    .join("|")}`;
}

export async function runTierD(o: TierDOptions): Promise<TierResult> {
  const start = Date.now();
  const r = new TierResult("D");
  const strace = ensureStrace();
  if (strace.path === null) {
    r.bump("skipped");
    r.notes.push(`tier D skipped: ${strace.why}`);
    r.ms = Date.now() - start;
    return r;
  }
  const replay = (t: number) =>
    `pnpm torture -- --tier D --seed ${o.seed} --case ${t}${o.bug === undefined ? "" : ` (seam bug ${o.bug})`}`;
  const models = { strict: 0, ordered: 0 };
  const total = o.traces + (o.kvTraces ?? 0);
  for (let t = 0; t < total; t++) {
    if (o.cases !== undefined && !o.cases.includes(t)) continue;
    const workload = t < o.traces ? "wal" : "kv";
    const root = mkdtempSync(join(tmpdir(), "lora-wal-tierd-"));
    const scratch = mkdtempSync(join(tmpdir(), "lora-wal-tierd-state-"));
    try {
      const commits = o.commits + (t % 3) * 5;
      const trace = recordTrace(strace.path, root, commits, o.bug ?? "none", workload);
      const parsed = parseTrace(trace, root, join(root, "acks"));
      r.cases++;
      r.bump("traces");
      if (workload === "kv") r.bump("kvTraces");
      r.bump("syscalls", parsed.syscalls);
      r.bump("relevantSyscalls", parsed.relevant);
      r.bump("logicalOps", parsed.ops.length);
      const ops = parsed.ops;
      if (!ops.some((op) => op.kind === "ack")) {
        r.add({
          tier: "D",
          kind: "error",
          caseId: String(t),
          message: "the traced writer acknowledged nothing",
          replay: replay(t),
        });
        continue;
      }
      if (parsed.truncatedWrites > 0)
        r.add({
          tier: "D",
          kind: "error",
          caseId: String(t),
          message: `${parsed.truncatedWrites} write(s) longer than strace -s`,
          replay: replay(t),
        });
      const ignore = new Set([...parsed.names].filter(([, p]) => basename(p).startsWith(".")).map(([ino]) => ino));
      const st = staticCheck(ops, parsed.names, ignore);
      r.bump("staticFindings", st.findings.length);
      r.bump("mkdirWithoutParentSync", st.mkdirWithoutParentSync.length);
      r.bump("redundantSyncs", st.redundantSyncs.length);
      if (t === 0) r.notes.push(...st.redundantSyncs.map((x) => x.replaceAll(root, "")));
      if (o.staticViolations !== false)
        for (const f of st.findings)
          r.add({
            tier: "D",
            kind: "sync-order",
            caseId: String(t),
            message: `static: ${f.message.replaceAll(root, "")}`,
            replay: replay(t),
          });
      if (o.stopOnFirst === true && r.violations.length > 0) break;
      // Crash states at every point, deduplicated by content; a seeded choice beyond maxStates.
      const seen = new Set<string>();
      const todo: { key: string; point: number; files: { path: string; bytes: Uint8Array }[]; desc: string }[] = [];
      for (let point = 1; point <= ops.length; point++) {
        let fence = 0;
        let acks = 0;
        for (let i = 0; i < point; i++) {
          const op = ops[i] as LogicalOp;
          if (op.kind === "ckpt") fence = op.s;
          else if (op.kind === "ack") acks++;
        }
        for (const s of crashStatesAt(ops, point, o.seed + t, o.strictSamples)) {
          models[s.model]++;
          r.crashStates++;
          const files = materialise(ops, s);
          const key = `${stateKey(files, fence)}|acks${acks}`;
          if (seen.has(key)) continue;
          seen.add(key);
          todo.push({ key, point, files, desc: `crash before op ${point}, ${s.description}` });
        }
      }
      r.bump("distinctStates", todo.length);
      let pick = todo;
      if (todo.length > o.maxStates) {
        // Seeded choice: every k-th from a seeded offset, so the whole trace stays covered.
        const step = todo.length / o.maxStates;
        const off = (o.seed % 997) / 997;
        pick = Array.from(
          { length: o.maxStates },
          (_, i) => todo[Math.floor((i + off) * step)] as (typeof todo)[number],
        );
      }
      let n = 0;
      for (const s of pick) {
        const dir = join(scratch, `s${n++}`);
        mkdirSync(dir);
        for (const f of s.files) {
          const p = join(dir, f.path.slice(root.length));
          mkdirSync(dirname(p), { recursive: true });
          writeFileSync(p, f.bytes);
        }
        const v =
          workload === "kv"
            ? await checkKvState(join(dir, "kv"), ops, s.point)
            : await checkState(join(dir, "wal"), ops, s.point);
        r.bump("statesChecked");
        r.ackedChecked += v.acked;
        for (const p of v.problems)
          r.add({ tier: "D", kind: p.kind, caseId: String(t), message: `${s.desc}: ${p.message}`, replay: replay(t) });
        rmSync(dir, { recursive: true, force: true });
        if (o.stopOnFirst === true && r.violations.length > 0) break;
      }
      if (o.stopOnFirst === true && r.violations.length > 0) break;
    } finally {
      rmSync(root, { recursive: true, force: true });
      rmSync(scratch, { recursive: true, force: true });
    }
  }
  if (r.extra.mkdirWithoutParentSync)
    r.notes.push("Wal.open creates the WAL directory (mkdir) without an fsync of its parent: modelled as durable");
  r.extra.strictStates = models.strict;
  r.extra.orderedStates = models.ordered;
  r.ms = Date.now() - start;
  return r;
}
