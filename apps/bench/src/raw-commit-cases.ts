/** The floors of a commit: hand-framed commits written one at a time, and group commit in rounds of 64. */

import * as fs from "node:fs";
import { join } from "node:path";
import { cbDatasync, cbWrite } from "./callback-fs.js";
import type { CaseContext, CaseFn, Measure } from "./case-types.js";
import { ContractLog } from "./contract-log.js";
import { frameCommitByHand } from "./hand-frames.js";
import { makePayload } from "./payload.js";
import { closedLoop, cpuSince, now } from "./timing.js";

/**
 * The floor of a `none`-mode commit: what it must do per transaction, written by hand — frame TxBegin, a
 * one-event MutationBatch and TxCommit (CRC each) and hand them to the OS with one `writeSync` — in a synchronous
 * loop with no promise per commit.
 */
function rawFramedCommitWriteSync(ctx: CaseContext): Promise<Measure> {
  const fd = fs.openSync(join(ctx.dir, "raw.log"), "w");
  const payload = makePayload();
  const buf = Buffer.allocUnsafe(4096);
  const cpu0 = process.cpuUsage();
  const t0 = now();
  const deadline = t0 + ctx.p.timeLimitMs;
  let position = 0;
  let i = 0;
  for (; i < ctx.p.count && (i & 1023 || now() < deadline); i++) {
    const used = frameCommitByHand(buf, 0, 1 + 3 * i, payload);
    fs.writeSync(fd, buf, 0, used, position);
    position += used;
  }
  const seconds = (now() - t0) / 1000;
  const cpuSeconds = cpuSince(cpu0);
  fs.closeSync(fd);
  return Promise.resolve({ ops: i, seconds, cpuSeconds });
}

/**
 * {@link rawFramedCommitWriteSync} in the shape of the workload's API, one awaited call per commit, keeping the
 * contract every sync mode of the library keeps, `none` included (`contract-log.ts`): at most 1 MiB unsynced, 8 MiB
 * segments sealed and created as the handle does. What keeping that contract this way costs an awaited `none`
 * commit.
 */
async function rawFramedCommitContract(ctx: CaseContext): Promise<Measure> {
  const log = await ContractLog.create(ctx.dir);
  const payload = makePayload();
  const buf = Buffer.allocUnsafe(4096);
  const cpu0 = process.cpuUsage();
  const t0 = now();
  const deadline = t0 + ctx.p.timeLimitMs;
  let i = 0;
  const commit = (begin: number): Promise<number> => {
    const wait = log.write(buf, frameCommitByHand(buf, 0, begin, payload));
    return wait === undefined ? Promise.resolve(begin) : wait.then(() => begin);
  };
  for (; i < ctx.p.count && (i & 1023 || now() < deadline); i++) await commit(1 + 3 * i);
  const seconds = (now() - t0) / 1000;
  const cpuSeconds = cpuSince(cpu0);
  await log.finish();
  return { ops: i, seconds, cpuSeconds };
}

/**
 * The floor of serial group commit at 64 writers: rounds of 64 hand-framed commits (as in
 * {@link rawFramedCommitWriteSync}), each round one `writeSync` and one `fdatasyncSync`, with no promise, no waiter
 * and no second writer. What a log that syncs one round at a time can reach on this disk; counted in commits.
 */
function rawGroupRounds64(ctx: CaseContext): Promise<Measure> {
  const fd = fs.openSync(join(ctx.dir, "raw.log"), "w");
  const payload = makePayload();
  const buf = Buffer.allocUnsafe(64 * 256);
  const cpu0 = process.cpuUsage();
  const t0 = now();
  const deadline = t0 + ctx.p.timeLimitMs;
  let position = 0;
  let i = 0;
  while (i < ctx.p.count && now() < deadline) {
    let used = 0;
    for (let k = 0; k < 64; k++, i++) used += frameCommitByHand(buf, used, 1 + 3 * i, payload);
    fs.writeSync(fd, buf, 0, used, position);
    fs.fdatasyncSync(fd);
    position += used;
  }
  const seconds = (now() - t0) / 1000;
  const cpuSeconds = cpuSince(cpu0);
  fs.closeSync(fd);
  return Promise.resolve({ ops: i, seconds, cpuSeconds });
}

/**
 * The same 64 commits in flight as {@link rawGroupRounds64}, but as two overlapping rounds of 32: two lanes, each
 * with its own descriptor of the file (so each sees every writeback error), each writing its 32 hand-framed commits
 * with `fs.write` and syncing them with `fdatasync` while the other lane's flush may be in progress. Whether this disk
 * gains anything from more than one flush in flight, without any of the log's own work.
 */
async function rawOverlappedRounds64(ctx: CaseContext): Promise<Measure> {
  const path = join(ctx.dir, "raw.log");
  fs.closeSync(fs.openSync(path, "w"));
  const lanes = 2;
  const perRound = 64 / lanes;
  const payload = makePayload();
  const cpu0 = process.cpuUsage();
  const t0 = now();
  const deadline = t0 + ctx.p.timeLimitMs;
  let position = 0;
  let done = 0;
  const lane = async (): Promise<void> => {
    const fd = fs.openSync(path, "r+");
    const buf = Buffer.allocUnsafe(perRound * 256);
    try {
      while (done < ctx.p.count && now() < deadline) {
        let used = 0;
        for (let k = 0; k < perRound; k++) used += frameCommitByHand(buf, used, 1 + 3 * (done + k), payload);
        const at = position;
        position += used;
        done += perRound;
        await cbWrite(fd, buf.subarray(0, used), at);
        await cbDatasync(fd);
      }
    } finally {
      fs.closeSync(fd);
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  const seconds = (now() - t0) / 1000;
  return { ops: done, seconds, cpuSeconds: cpuSince(cpu0) };
}

/**
 * A raw group-commit loop of the same shape as the handle under `ctx.p.concurrency` awaiting writers: each commit
 * is framed by hand into the pending buffer and awaits the round that covers it; one round at a time (started once
 * the writers woken together have framed theirs) writes what is pending (`writeSync`, small) and syncs it (`fdatasync` on the thread pool, so writers keep framing meanwhile),
 * then answers its waiters and starts the next round if anything is pending. The library's group commit minus the
 * library: the baseline of the concurrency rows.
 */
function rawGroupCommit(ctx: CaseContext): Promise<Measure> {
  return groupCommitLoop(ctx, false);
}

/**
 * {@link rawGroupCommit} with the round's fdatasync blocking the event loop (`fdatasyncSync`), its waiters answered
 * after it: the same shape as a handle opened with `blockingSync`, and the faster of the two on some disks.
 */
function rawGroupCommitBlocking(ctx: CaseContext): Promise<Measure> {
  return groupCommitLoop(ctx, true);
}

async function groupCommitLoop(ctx: CaseContext, blocking: boolean): Promise<Measure> {
  const fd = fs.openSync(join(ctx.dir, "raw.log"), "w");
  const payload = makePayload();
  let pending = Buffer.allocUnsafe(1 << 16);
  let used = 0;
  let waiters: (() => void)[] = [];
  let flushing = false;
  let scheduled = false;
  let position = 0;
  let syncs = 0;
  const flush = (): void => {
    flushing = true;
    const bytes = pending.subarray(0, used);
    const answer = waiters;
    fs.writeSync(fd, bytes, 0, bytes.byteLength, position);
    position += bytes.byteLength;
    // writeSync has handed the bytes to the kernel: the buffer takes the next round's commits at once.
    used = 0;
    waiters = [];
    const done = (): void => {
      syncs++;
      for (const w of answer) w();
      flushing = false;
      if (waiters.length > 0) flush();
    };
    if (blocking) {
      fs.fdatasyncSync(fd);
      // Answered from a microtask, as an awaited thread-pool sync would be: the round's flag is cleared first.
      void Promise.resolve().then(done);
    } else void cbDatasync(fd).then(done);
  };
  let lsn = 1;
  const commit = (): Promise<void> =>
    new Promise<void>((resolve) => {
      if (used + 512 > pending.byteLength) {
        const grown = Buffer.allocUnsafe(pending.byteLength * 2);
        pending.copy(grown, 0, 0, used);
        pending = grown;
      }
      used += frameCommitByHand(pending, used, lsn, payload);
      lsn += 3;
      waiters.push(resolve);
      if (!flushing && !scheduled) {
        // After the writers already woken in this burst have framed theirs: one round for all of them.
        scheduled = true;
        queueMicrotask(() => {
          scheduled = false;
          if (!flushing && waiters.length > 0) flush();
        });
      }
    });
  const r = await closedLoop(ctx.p, commit);
  fs.closeSync(fd);
  return { ...r, syncs };
}

export const RAW_COMMIT_CASES: Readonly<Record<string, CaseFn>> = {
  "raw.framedCommitWriteSync": rawFramedCommitWriteSync,
  "raw.framedCommitContract": rawFramedCommitContract,
  "raw.groupRounds64": rawGroupRounds64,
  "raw.groupCommit": rawGroupCommit,
  "raw.groupCommitBlocking": rawGroupCommitBlocking,
  "raw.overlappedRounds64": rawOverlappedRounds64,
};
