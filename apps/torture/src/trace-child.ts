/**
 * Tier D writer process, run under `strace`: opens the WAL with the real Node seam (optionally wrapped by a planted
 * seam bug) on a real directory, commits `--commits` transactions in perCommit mode through a small segment target
 * (rotations), checkpoints with truncation two thirds of the way, and closes. Every acknowledgement is one
 * `write(2)` of `ack <commitLsn>` on the ack file (and `ckpt <s>` before the checkpoint), so the acks land in the
 * traced system calls in order with the seam's own calls.
 *
 * With `--workload kv` it runs the kv-store example instead (puts acknowledged as `kvack i`, a snapshot checkpoint).
 *
 * Usage: node dist/trace-child.js --dir D --ack FILE [--commits N] [--bug NAME] [--workload wal|kv]
 */

import { closeSync, openSync, writeSync } from "node:fs";
import { parseArgs } from "node:util";
import { isWalError, type JsonValue, jsonCodec, Wal } from "@lora/wal";
import { createNodeFileSystem } from "@lora/wal-segment";
// The kv-store example (its snapshot path: tmp file, fsync, rename, directory fsync), bundled from its sources.
import { KvStore } from "../../../examples/kv-store/src/kv-store.js";
import { TRACE_SEGMENT_TARGET, traceEvents, wrapSeam } from "./trace-workload.js";

const { values } = parseArgs({
  options: {
    dir: { type: "string" },
    ack: { type: "string" },
    commits: { type: "string", default: "24" },
    bug: { type: "string", default: "none" },
    workload: { type: "string", default: "wal" },
  },
});

const ackFd = openSync(values.ack as string, "a");
const log = (line: string) => writeSync(ackFd, `${line}\n`);

/** The kv-store example: puts (each acknowledged as `kvack i`), a snapshot checkpoint two thirds of the way, close. */
async function kv(commits: number): Promise<void> {
  const fs = wrapSeam(createNodeFileSystem(), values.bug as string);
  const store = await KvStore.open(values.dir as string, { fs, segmentTargetBytes: TRACE_SEGMENT_TARGET });
  const checkpointAt = Math.floor((commits * 2) / 3);
  for (let i = 0; i < commits; i++) {
    if (i === checkpointAt) log(`kvckpt ${await store.checkpoint()}`);
    await store.put(`k${i % 7}`, traceEvents(i));
    log(`kvack ${i}`);
  }
  await store.close();
  log("closed");
}

async function main(): Promise<void> {
  const commits = Number(values.commits);
  if (values.workload === "kv") return kv(commits);
  const fs = wrapSeam(createNodeFileSystem(), values.bug as string);
  const { wal } = await Wal.open<JsonValue>(values.dir as string, {
    codec: jsonCodec,
    fs,
    syncMode: "perCommit",
    segmentTargetBytes: TRACE_SEGMENT_TARGET,
  });
  const checkpointAt = Math.floor((commits * 2) / 3);
  for (let i = 0; i < commits; i++) {
    if (i === checkpointAt) {
      const s = wal.safeCheckpointLsn();
      log(`ckpt ${s}`);
      await wal.checkpoint(s);
    }
    const info = await wal.commitTx(traceEvents(i));
    if (info === null) throw new Error("null commit");
    log(`ack ${info.commitLsn} ${i}`);
  }
  await wal.close();
  log("closed");
}

main().then(
  () => {
    closeSync(ackFd);
    process.exit(0);
  },
  (e: unknown) => {
    log(`error ${isWalError(e) ? `${e.code}: ${e.message}` : String(e)}`);
    process.exit(3);
  },
);
