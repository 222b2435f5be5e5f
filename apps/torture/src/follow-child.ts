/**
 * Tier F's child processes (real files, the Node seam).
 *
 * `--role writer`: loads, then waits for its configuration, one JSON line on stdin (a {@link WriterConfig}), so
 * the parent can start the next writer while the current one runs and skip Node's start-up time between kills.
 * Then it opens the log, checkpoints, and commits with several concurrent writers (`commitTx`, low-level
 * transactions that interleave with the others' commits, aborted ones, `sync`, `checkpoint(safeCheckpointLsn())` with truncation) through a small segment target, so it
 * rotates often, and logs every intent and acknowledgement with `fs.writeSync`. It is SIGKILLed by the parent, kills
 * itself after `killAfterAcks` acknowledgements or at a failpoint (`failpoints`, as `WAL_FAILPOINTS`), or closes
 * after `ops` operations per writer. With `bug: "truncate-ignoring-slots"` (a planted bug) every checkpoint is followed by a
 * raw unlink of the segments the fence alone would let truncation delete, ignoring the replication slots.
 *
 * `--role follower`: follows the log with `followDir` and a replication slot, logs every delivered transaction,
 * confirms it, and logs the confirmation; a failure is logged with its code and ends the process.
 *
 * Usage: node follow-child.js --role writer --dir D --log FILE --seed N   (then the configuration on stdin)
 *        node follow-child.js --role follower --dir D --log FILE --slot NAME
 */

import { closeSync, openSync, unlinkSync, writeSync } from "node:fs";
import { parseArgs } from "node:util";
import { followDir, isWalError, type JsonValue, jsonCodec, readSlot, Wal } from "@lora/wal";
import { withTestingHooks } from "@lora/wal/testing";
import { planRetention } from "@lora/wal-replay";
import { eventOf } from "./ack-log.js";
import { failpointFrom } from "./failpoints.js";
import { summarize } from "./follow-history.js";
import type { FollowerLine, WriterConfig, WriterLine } from "./follow-proc-log.js";
import { between, mix, rng } from "./prng.js";

const { values } = parseArgs({
  options: {
    role: { type: "string" },
    dir: { type: "string" },
    log: { type: "string" },
    seed: { type: "string", default: "1" },
    slot: { type: "string", default: "follower" },
  },
});

/** The first line on stdin. */
function readConfig(): Promise<WriterConfig> {
  return new Promise((resolve, reject) => {
    let buffer = "";
    process.stdin.setEncoding("utf8");
    process.stdin.on("data", (chunk: string) => {
      buffer += chunk;
      const end = buffer.indexOf("\n");
      if (end < 0) return;
      process.stdin.pause();
      resolve(JSON.parse(buffer.slice(0, end)) as WriterConfig);
    });
    process.stdin.on("end", () => reject(new Error("the parent closed stdin before sending a configuration")));
  });
}

const dir = values.dir as string;
const logFd = openSync(values.log as string, "a");
const log = (line: WriterLine | FollowerLine) => writeSync(logFd, `${JSON.stringify(line)}\n`);

/** Segments of 1.5 KiB: a rotation every few commits. */
const FOLLOW_SEGMENT_BYTES = 1536;

async function writer(): Promise<void> {
  const seed = Number(values.seed);
  const config = await readConfig();
  const cycle = config.cycle;
  const mode = config.mode === "group" ? { mode: "group" as const, intervalMs: 5 } : ("perCommit" as const);
  const killAfter = config.killAfterAcks;
  const ignoreSlots = config.bug === "truncate-ignoring-slots";
  const failpoint = failpointFrom(config.failpoints, mix(seed, cycle, 0xf1), (at) => log({ t: "killed", at }));
  const { wal } = await Wal.open<JsonValue>(
    dir,
    withTestingHooks(
      { codec: jsonCodec, syncMode: mode, segmentTargetBytes: FOLLOW_SEGMENT_BYTES, checkpointLsn: config.fence },
      { failpoint },
    ),
  );
  wal.onLifecycle((e) => {
    if (e.type === "sealed") log({ t: "rot", id: e.segment.id });
    else if (e.type === "removed") log({ t: "rm", n: e.segments.length });
  });
  log({ t: "open", next: wal.nextLsn() });
  process.stdout.write("ready\n");
  const maxOps = config.ops;
  let acks = 0;
  let checkpointing = false;
  const checkpoint = async () => {
    checkpointing = true;
    const s = wal.safeCheckpointLsn();
    log({ t: "checkpoint", s });
    await wal.checkpoint(s);
    if (ignoreSlots) {
      // Planted bug: truncation that ignores the replication slots, done behind the handle's back.
      const plan = planRetention({
        segments: await wal.segments(),
        fenceLsn: s,
        keepFromId: wal.activeSegmentId() - 1,
        slots: [],
        maxSlotRetainedBytes: Number.POSITIVE_INFINITY,
      });
      for (const segment of plan.drop) unlinkSync(segment.path);
      if (plan.drop.length > 0) log({ t: "raw-unlink", n: plan.drop.length, fence: s });
    }
    checkpointing = false;
  };
  const one = async (w: number) => {
    const next = rng(mix(seed, cycle, w));
    // A store checkpoints once it has recovered: the first thing writer 0 does (the truncation that follows removes
    // what the previous writers left, as far as the slots allow).
    if (w === 0) await checkpoint();
    for (let k = 0; maxOps === 0 || k < maxOps; k++) {
      const id = `c${cycle}w${w}n${k}`;
      const roll = next();
      const count = between(next, 1, 3);
      const pad = next() < 0.1 ? between(next, 300, 900) : between(next, 0, 100);
      const events = Array.from({ length: count }, (_, i) => eventOf(id, i, pad));
      if (roll < 0.8) {
        log({ t: "intent", id, n: count });
        let acked: { b: number; c: number; low?: true };
        if (roll < 0.72) {
          const info = await wal.commitTx(events);
          if (info === null) throw new Error("commitTx resolved null");
          acked = { b: info.beginLsn, c: info.commitLsn };
        } else {
          // A low-level transaction whose records straddle a turn of the event loop: the other writers' commits
          // land inside it, so it commits after transactions begun later (an interleaved log, where a resume token
          // must carry its restart point). A kill while it is open leaves a begin that can never commit.
          const b = await wal.begin();
          await wal.appendBatch(b, events.slice(0, 1));
          await new Promise((resolve) => setImmediate(resolve));
          if (count > 1) await wal.appendBatch(b, events.slice(1));
          const c = await wal.commit(b);
          await wal.whenDurable(c);
          acked = { b, c, low: true };
        }
        log({ t: "acked", id, ...acked });
        if (++acks === killAfter) {
          log({ t: "killed", at: `after ${acks} acknowledgements` });
          process.kill(process.pid, "SIGKILL");
        }
      } else if (roll < 0.84) {
        log({ t: "aborted", id });
        const b = await wal.begin();
        await wal.appendBatch(b, events);
        await wal.abort(b);
      } else if (roll < 0.96 && !checkpointing) {
        await checkpoint();
      } else {
        await wal.sync();
      }
    }
  };
  await Promise.all(Array.from({ length: config.writers }, (_, w) => one(w)));
  await wal.close();
  log({ t: "closed" });
}

async function follower(): Promise<void> {
  const slot = values.slot as string;
  const start = await readSlot(dir, slot);
  log({ t: "start", from: start.confirmedLsn });
  const f = followDir<JsonValue>(dir, { codec: jsonCodec, slot, selfSyncAfterMs: 200, pollIntervalMs: 50 });
  for await (const tx of f) {
    log({ t: "d", ...summarize(tx) });
    await f.confirm(tx.commitLsn);
    log({ t: "c", c: tx.commitLsn });
  }
}

const role = values.role;
(role === "writer" ? writer() : role === "follower" ? follower() : Promise.reject(new Error(`--role ${role}?`))).then(
  () => {
    closeSync(logFd);
    process.exit(0);
  },
  (e: unknown) => {
    if (role === "writer") log({ t: "error", message: isWalError(e) ? `${e.code}: ${e.message}` : String(e) });
    else
      log({
        t: "error",
        code: isWalError(e) ? e.code : "?",
        message: e instanceof Error ? `${e.message}${process.env.LORA_TORTURE_STACKS ? ` ${e.stack}` : ""}` : String(e),
      });
    process.exit(3);
  },
);
