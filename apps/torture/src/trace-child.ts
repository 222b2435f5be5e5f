/**
 * Tier D writer process, run under `strace`: opens the WAL with the real Node seam (optionally wrapped by a planted
 * seam bug) on a real directory, commits `--commits` transactions in `--sync-mode` through a small segment target
 * (rotations), checkpoints with truncation two thirds of the way, and closes. Every claim (trace-claims.ts) is one
 * `write(2)` on the ack file, so the claims land in the traced system calls in order with the seam's own calls.
 *
 * `--workload heal-torn|heal-sealed` splits the commits over two opens with damage between them (trace-heal.ts): the
 * first half in perCommit, the rest in `--sync-mode` after a reopen that must report the repair, or the writer fails.
 * `--workload kv` runs the kv-store example instead (puts acknowledged as `kvack i`, a snapshot checkpoint).
 *
 * `--planted NAME` switches on a planted bug of the handle (`@lora/wal/testing`) in the WAL workloads' opens.
 *
 * Usage: node dist/trace-child.js --dir D --ack FILE [--commits N] [--bug NAME] [--planted NAME] [--workload W]
 *   [--sync-mode M]
 */

import { closeSync, openSync, readFileSync, writeSync } from "node:fs";
import { parseArgs } from "node:util";
import { isWalError, type JsonValue, jsonCodec, Wal } from "@lora/wal";
import { type PlantedBug, withTestingHooks } from "@lora/wal/testing";
import { createNodeFileSystem, segmentPath, type WalFileSystem } from "@lora/wal-segment";
// The kv-store example (its snapshot path: tmp file, fsync, rename, directory fsync), bundled from its sources.
import { KvStore } from "../../../examples/kv-store/src/kv-store.js";
import { closeDurably, commitRange, syncModeOption } from "./trace-commits.js";
import { dropToSealed, tearNewestSegment, tearNewestSegmentLarge } from "./trace-heal.js";
import {
  TRACE_SEGMENT_TARGET,
  TRACE_SYNC_MODES,
  TRACE_WORKLOADS,
  type TraceSyncMode,
  traceEvents,
  wrapSeam,
} from "./trace-workload.js";

const { values } = parseArgs({
  options: {
    dir: { type: "string" },
    ack: { type: "string" },
    commits: { type: "string", default: "24" },
    bug: { type: "string", default: "none" },
    planted: { type: "string", default: "none" },
    workload: { type: "string", default: "wal" },
    "sync-mode": { type: "string", default: "perCommit" },
  },
});

const ackFd = openSync(values.ack as string, "a");
const log = (line: string) => writeSync(ackFd, `${line}\n`);
const dir = values.dir as string;
const mode = values["sync-mode"] as TraceSyncMode;
if (!(TRACE_SYNC_MODES as readonly string[]).includes(mode)) throw new Error(`unknown --sync-mode ${mode}`);
if (!(TRACE_WORKLOADS as readonly string[]).includes(values.workload as string))
  throw new Error(`unknown --workload ${values.workload}`);

/** The kv-store example: puts (each acknowledged as `kvack i`), a snapshot checkpoint two thirds of the way, close. */
async function kv(commits: number): Promise<void> {
  const fs = wrapSeam(createNodeFileSystem(), values.bug as string);
  const store = await KvStore.open(dir, { fs, segmentTargetBytes: TRACE_SEGMENT_TARGET });
  const checkpointAt = Math.floor((commits * 2) / 3);
  for (let i = 0; i < commits; i++) {
    if (i === checkpointAt) log(`kvckpt ${await store.checkpoint()}`);
    await store.put(`k${i % 7}`, traceEvents(i));
    log(`kvack ${i}`);
  }
  await store.close();
}

function open(fs: WalFileSystem, m: TraceSyncMode, fence: number) {
  const options = {
    codec: jsonCodec,
    fs,
    syncMode: syncModeOption(m),
    segmentTargetBytes: TRACE_SEGMENT_TARGET,
    checkpointLsn: fence,
  };
  const planted = values.planted as PlantedBug | "none";
  return Wal.open<JsonValue>(dir, planted === "none" ? options : withTestingHooks(options, { plantedBugs: [planted] }));
}

/** One open, all the commits. */
async function wal(fs: WalFileSystem, commits: number): Promise<void> {
  const { wal } = await open(fs, mode, 0);
  await commitRange(wal, mode, { from: 0, to: commits, checkpointAt: Math.floor((commits * 2) / 3), fence: 0 }, log);
  await closeDurably(wal, log);
}

/** Where a segment's records end: past its last non-zero byte, not at its size (the handle zero-fills ahead). */
function recordsEnd(path: string): number {
  const bytes = readFileSync(path);
  let end = bytes.byteLength;
  while (end > 0 && bytes[end - 1] === 0) end--;
  return end;
}

/** Phase 1 (perCommit), the damage, then phase 2 in `mode` after a reopen that must have repaired it. */
async function heal(
  fs: WalFileSystem,
  commits: number,
  kind: "heal-torn" | "heal-sealed" | "heal-torn-large",
): Promise<void> {
  const checkpointAt = Math.floor((commits * 2) / 3);
  const first = await open(fs, "perCommit", 0);
  let done = Math.floor(commits / 2);
  let fence = await commitRange(first.wal, "perCommit", { from: 0, to: done, checkpointAt, fence: 0 }, log);
  if (kind !== "heal-sealed") {
    const activeId = first.wal.activeSegmentId();
    const nextLsn = first.wal.nextLsn();
    await closeDurably(first.wal, log);
    log(
      kind === "heal-torn"
        ? tearNewestSegment(dir, activeId, nextLsn, done)
        : tearNewestSegmentLarge(dir, activeId, nextLsn),
    );
  } else {
    // Fill the active segment, so the next begin() rotates: seal, create the next segment, fsync the directory.
    const full = () => recordsEnd(segmentPath(dir, first.wal.activeSegmentId())) >= TRACE_SEGMENT_TARGET;
    for (; !full(); done++)
      fence = await commitRange(first.wal, "perCommit", { from: done, to: done + 1, checkpointAt, fence }, log);
    const lastCommit = first.wal.nextLsn() - 1;
    const before = first.wal.activeSegmentId();
    const begin = await first.wal.begin();
    if (first.wal.activeSegmentId() !== before + 1) throw new Error("begin() on a full segment did not rotate");
    await first.wal.abort(begin);
    const activeId = first.wal.activeSegmentId();
    await closeDurably(first.wal, log);
    log(dropToSealed(dir, activeId, lastCommit));
  }
  const second = await open(fs, mode, fence);
  const repaired =
    kind !== "heal-sealed"
      ? second.tornTail !== null && second.healed.some((h) => h.kind === "tornTailTruncated" && h.brokenCopy !== null)
      : second.healed.some((h) => h.kind === "sealedSegmentSucceeded");
  if (!repaired)
    throw new Error(
      `the reopen did not report the ${kind} repair: tornTail ${JSON.stringify(second.tornTail)}, healed ${JSON.stringify(second.healed)}`,
    );
  log(`healed ${second.healed.map((h) => h.kind).join(",")}`);
  const to = Math.max(commits, done + 6);
  await commitRange(second.wal, mode, { from: done, to, checkpointAt, fence }, log);
  await closeDurably(second.wal, log);
}

async function main(): Promise<void> {
  const commits = Number(values.commits);
  const workload = values.workload as (typeof TRACE_WORKLOADS)[number];
  if (workload === "kv") return kv(commits);
  const fs = wrapSeam(createNodeFileSystem(), values.bug as string);
  if (workload === "wal") return wal(fs, commits);
  return heal(fs, commits, workload);
}

main().then(
  () => {
    log("closed");
    closeSync(ackFd);
    process.exit(0);
  },
  (e: unknown) => {
    log(`error ${isWalError(e) ? `${e.code}: ${e.message}` : String(e)}`);
    process.exit(3);
  },
);
