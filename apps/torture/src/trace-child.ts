/**
 * Tier D writer process, run under `strace`: opens the WAL with the real Node seam (optionally wrapped by a planted
 * seam bug) on a real directory, commits `--commits` transactions in perCommit mode through a small segment target
 * (rotations), checkpoints with truncation two thirds of the way, and closes. Every acknowledgement is one
 * `write(2)` of `ack <commitLsn>` on the ack file (and `ckpt <s>` before the checkpoint), so the acks land in the
 * traced system calls in order with the seam's own calls.
 *
 * Usage: node dist/trace-child.js --dir D --ack FILE [--commits N] [--bug NAME]
 */

import { closeSync, openSync, writeSync } from "node:fs";
import { parseArgs } from "node:util";
import { isWalError, type JsonValue, jsonCodec, Wal } from "@lora/wal";
import { createNodeFileSystem } from "@lora/wal-segment";
import { TRACE_SEGMENT_TARGET, traceEvents, wrapSeam } from "./trace-workload.js";

const { values } = parseArgs({
  options: {
    dir: { type: "string" },
    ack: { type: "string" },
    commits: { type: "string", default: "24" },
    bug: { type: "string", default: "none" },
  },
});

const ackFd = openSync(values.ack as string, "a");
const log = (line: string) => writeSync(ackFd, `${line}\n`);

async function main(): Promise<void> {
  const commits = Number(values.commits);
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
