/**
 * Tier B writer process: opens the WAL on the real file system and runs a seeded random workload with several
 * concurrent writers (transactions of mixed sizes, aborts, low-level transactions, syncs, checkpoint(safeCheckpointLsn())
 * with truncation, rotation through a small segment target), logging every intent and acknowledgement to an ack log
 * outside the WAL directory with `fs.writeSync`. It is SIGKILLed by the parent or by a failpoint
 * (`WAL_FAILPOINTS`), or, with `--ops`, closes cleanly after that many operations per writer.
 *
 * Usage: node dist/child.js --dir D --ack FILE --mode perCommit|group|none --seed N --cycle N --fence N
 *        [--writers N] [--ops N] [--probe-lock]
 */

import { closeSync, openSync, writeSync } from "node:fs";
import { parseArgs } from "node:util";
import { isWalError, type JsonValue, jsonCodec, Wal } from "@lora/wal";
import { withTestingHooks } from "@lora/wal/testing";
import { type AckLine, eventOf } from "./ack-log.js";
import { failpointFrom } from "./failpoints.js";
import { between, mix, rng } from "./prng.js";

const { values } = parseArgs({
  options: {
    dir: { type: "string" },
    ack: { type: "string" },
    mode: { type: "string", default: "perCommit" },
    seed: { type: "string", default: "1" },
    cycle: { type: "string", default: "0" },
    fence: { type: "string", default: "0" },
    writers: { type: "string", default: "4" },
    ops: { type: "string", default: "0" },
    "probe-lock": { type: "boolean", default: false },
    // "true", "false" or "auto" (the handle's default).
    "blocking-sync": { type: "string", default: "auto" },
  },
});

function blockingSyncOf(value: string): boolean | "auto" {
  if (value === "auto") return "auto";
  if (value === "true" || value === "false") return value === "true";
  throw new Error(`--blocking-sync must be true, false or auto, got ${value}`);
}

const dir = values.dir as string;
const ackFd = openSync(values.ack as string, "a");
const log = (line: AckLine) => writeSync(ackFd, `${JSON.stringify(line)}\n`);
const seed = Number(values.seed);
const cycle = Number(values.cycle);
const mode = values.mode as "perCommit" | "group" | "none";
const syncMode = mode === "group" ? { mode: "group" as const, intervalMs: 5 } : mode;

async function main(): Promise<void> {
  if (values["probe-lock"]) {
    try {
      const { wal } = await Wal.open(dir, { codec: jsonCodec, lockRetryMs: 20 });
      await wal.close();
      log({ t: "lock", code: "OPENED" });
    } catch (e) {
      log({ t: "lock", code: isWalError(e) ? e.code : String(e) });
    }
    return;
  }
  const failpoint = failpointFrom(process.env.WAL_FAILPOINTS, mix(seed, cycle, 0xf), (at) => log({ t: "killed", at }));
  const { wal } = await Wal.open<JsonValue>(
    dir,
    withTestingHooks(
      {
        codec: jsonCodec,
        syncMode,
        blockingSync: blockingSyncOf(values["blocking-sync"] as string),
        segmentTargetBytes: 12 * 1024,
        checkpointLsn: Number(values.fence),
      },
      { failpoint },
    ),
  );
  log({ t: "open", next: wal.nextLsn() });
  process.stdout.write("ready\n");

  const maxOps = Number(values.ops);
  let checkpointing = false;
  let lastAcked = 0;
  const perCommit = mode === "perCommit";

  const writer = async (w: number) => {
    const next = rng(mix(seed, cycle, w));
    for (let n = 0; maxOps === 0 || n < maxOps; n++) {
      const id = `c${cycle}w${w}n${n}`;
      const roll = next();
      const count = between(next, 1, 3);
      const pad = next() < 0.12 ? 3000 : between(next, 0, 60);
      const events = Array.from({ length: count }, (_, i) => eventOf(id, i, pad));
      if (roll < 0.75) {
        log({ t: "intent", id, n: count });
        const info = await wal.commitTx(events);
        if (info === null) throw new Error("null commit");
        log({ t: "acked", id, b: info.beginLsn, c: info.commitLsn, durable: perCommit });
        lastAcked = Math.max(lastAcked, info.commitLsn);
      } else if (roll < 0.9) {
        const abort = roll < 0.83;
        if (abort) log({ t: "aborted", id });
        else log({ t: "intent", id, n: count });
        const b = await wal.begin();
        for (const e of events) await wal.append(b, e);
        if (abort) {
          await wal.abort(b);
          continue;
        }
        const c = await wal.commit(b);
        await wal.flush();
        log({ t: "acked", id, b, c, durable: perCommit });
      } else if (roll < 0.95) {
        const upTo = wal.nextLsn() - 1;
        await wal.sync();
        log({ t: "durable", upTo });
      } else if (roll < 0.98 && !checkpointing) {
        checkpointing = true;
        // The handle names the fence (durable, below every open transaction, outside every finished one, at or
        // above every marker); the snapshot at s exists before its marker is written. Another writer's begin
        // lands above nextLsn, so it cannot move below s before the marker.
        const s = wal.safeCheckpointLsn();
        log({ t: "checkpoint", s });
        await wal.checkpoint(s); // marker, fsync, truncateUpTo(s)
        checkpointing = false;
      } else if (mode === "group" && lastAcked > 0) {
        const upTo = lastAcked;
        await wal.whenDurable(upTo);
        log({ t: "durable", upTo });
      }
    }
  };
  const writers = Number(values.writers);
  await Promise.all(Array.from({ length: writers }, (_, w) => writer(w)));
  await wal.close();
  log({ t: "closed" });
}

main().then(
  () => {
    closeSync(ackFd);
    process.exit(0);
  },
  (e: unknown) => {
    log({ t: "error", message: isWalError(e) ? `${e.code}: ${e.message}` : String(e) });
    process.exit(3);
  },
);
