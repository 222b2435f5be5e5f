/** The raw `fs` baselines of the write workloads: plain writes with and without a sync, and hand-framed records. */

import * as fs from "node:fs";
import { join } from "node:path";
import { cbDatasync, cbWrite } from "./callback-fs.js";
import type { CaseContext, CaseFn, Measure } from "./case-types.js";
import { ContractLog } from "./contract-log.js";
import { FRAMED_RECORD_BYTES, frameRecordByHand } from "./hand-frames.js";
import { makePayload, PAYLOAD_BYTES } from "./payload.js";
import { closedLoop, cpuSince, now } from "./timing.js";

/**
 * Open the file of the one-record-per-commit loops; with `prezeroed`, first fill what the loop will write with zeros
 * and fsync it (untimed), so the loop overwrites allocated blocks inside the file size, as a writer with pre-zeroed
 * segments would, and its fdatasync has no file-size change to make durable.
 */
function openRawLog(ctx: CaseContext, prezeroed: boolean): number {
  const fd = fs.openSync(join(ctx.dir, "raw.log"), "w");
  if (prezeroed) {
    const zeros = Buffer.alloc(1 << 20);
    const bytes = ctx.p.count * PAYLOAD_BYTES;
    for (let at = 0; at < bytes; at += zeros.length) fs.writeSync(fd, zeros, 0, zeros.length, at);
    fs.fsyncSync(fd);
  }
  return fd;
}

/** One 100-byte record per commit: `fs.write` + `fdatasync` through the thread pool, awaited. */
async function writeFdatasyncLoop(ctx: CaseContext, prezeroed: boolean): Promise<Measure> {
  const fd = openRawLog(ctx, prezeroed);
  const payload = makePayload();
  const r = await closedLoop({ ...ctx.p, concurrency: 1 }, async (i) => {
    await cbWrite(fd, payload, i * PAYLOAD_BYTES);
    await cbDatasync(fd);
  });
  fs.closeSync(fd);
  return r;
}

/** One 100-byte record per commit: `writeSync` + `fdatasyncSync` on this thread. */
function writeSyncFdatasyncSyncLoop(ctx: CaseContext, prezeroed: boolean): Promise<Measure> {
  const fd = openRawLog(ctx, prezeroed);
  const payload = makePayload();
  const cpu0 = process.cpuUsage();
  const t0 = now();
  const deadline = t0 + ctx.p.timeLimitMs;
  let i = 0;
  for (; i < ctx.p.count && now() < deadline; i++) {
    fs.writeSync(fd, payload, 0, PAYLOAD_BYTES, i * PAYLOAD_BYTES);
    fs.fdatasyncSync(fd);
  }
  const seconds = (now() - t0) / 1000;
  const cpuSeconds = cpuSince(cpu0);
  fs.closeSync(fd);
  return Promise.resolve({ ops: i, seconds, cpuSeconds });
}

async function rawWriteAsync(ctx: CaseContext): Promise<Measure> {
  const fd = fs.openSync(join(ctx.dir, "raw.log"), "w");
  const payload = makePayload();
  const r = await closedLoop({ ...ctx.p, concurrency: 1 }, (i) => cbWrite(fd, payload, i * PAYLOAD_BYTES));
  fs.closeSync(fd);
  return r;
}

function rawWriteSync(ctx: CaseContext): Promise<Measure> {
  const fd = fs.openSync(join(ctx.dir, "raw.log"), "w");
  const payload = makePayload();
  const cpu0 = process.cpuUsage();
  const t0 = now();
  const deadline = t0 + ctx.p.timeLimitMs;
  let i = 0;
  for (; i < ctx.p.count && (i & 1023 || now() < deadline); i++) {
    fs.writeSync(fd, payload, 0, PAYLOAD_BYTES, i * PAYLOAD_BYTES);
  }
  const seconds = (now() - t0) / 1000;
  const cpuSeconds = cpuSince(cpu0);
  fs.closeSync(fd);
  return Promise.resolve({ ops: i, seconds, cpuSeconds });
}

/**
 * Records framed by hand into a 1 MiB buffer that is handed to `raw.log` with `writeSync` whenever it is full:
 * `append(lsn)` frames one record of transaction 1; `finish()` writes the rest and fdatasyncs; `close()` closes.
 */
function handFramedLog(ctx: CaseContext): { append(lsn: number): void; finish(): void; close(): void } {
  const fd = fs.openSync(join(ctx.dir, "raw.log"), "w");
  const payload = makePayload();
  const buf = Buffer.allocUnsafe(1 << 20);
  let used = 0;
  let position = 0;
  return {
    append(lsn) {
      if (used + FRAMED_RECORD_BYTES > buf.length) {
        fs.writeSync(fd, buf, 0, used, position);
        position += used;
        used = 0;
      }
      used += frameRecordByHand(buf, used, lsn, payload);
    },
    finish() {
      fs.writeSync(fd, buf, 0, used, position);
      fs.fdatasyncSync(fd);
    },
    close() {
      fs.closeSync(fd);
    },
  };
}

/**
 * The physical floor of buffered appends: frame each record by hand ({@link handFramedLog}) in a synchronous loop,
 * one fdatasync at the end.
 */
function rawEncodeFrames(ctx: CaseContext): Promise<Measure> {
  const log = handFramedLog(ctx);
  const cpu0 = process.cpuUsage();
  const t0 = now();
  let i = 0;
  for (; i < ctx.p.count; i++) log.append(i + 2);
  log.finish();
  const seconds = (now() - t0) / 1000;
  const cpuSeconds = cpuSince(cpu0);
  log.close();
  return Promise.resolve({ ops: i, seconds, cpuSeconds });
}

/**
 * {@link rawEncodeFrames} in the shape of the library's API: each record framed by a call that returns a settled
 * promise, awaited before the next. The floor of any buffered append that is one awaited call per record: context
 * for the buffered-append target, which compares with the synchronous loop.
 */
async function rawEncodeFramesAwaited(ctx: CaseContext): Promise<Measure> {
  const log = handFramedLog(ctx);
  const append = (lsn: number): Promise<number> => {
    log.append(lsn);
    return Promise.resolve(lsn);
  };
  const cpu0 = process.cpuUsage();
  const t0 = now();
  let i = 0;
  for (; i < ctx.p.count; i++) await append(i + 2);
  log.finish();
  const seconds = (now() - t0) / 1000;
  const cpuSeconds = cpuSince(cpu0);
  log.close();
  return { ops: i, seconds, cpuSeconds };
}

/** The library spills its buffer once this much is pending; the contract floor writes as often. */
const SPILL_BYTES = 512 * 1024;

/**
 * {@link rawEncodeFramesAwaited} (one awaited call per record, the workload's API shape) keeping the contract every
 * sync mode of the library keeps (`contract-log.ts`), in the library's way: records framed into one of two buffers,
 * a buffer handed to the {@link ContractLog} once 512 KiB are in it (so each write starts a background fdatasync), and
 * framing going on in the other buffer while that write waits for the window; one fdatasync at the end. What keeping
 * the contract this way costs an awaited buffered append.
 */
async function rawEncodeFramesContract(ctx: CaseContext): Promise<Measure> {
  const log = await ContractLog.create(ctx.dir);
  const payload = makePayload();
  const buffers = [
    Buffer.allocUnsafe(SPILL_BYTES + FRAMED_RECORD_BYTES),
    Buffer.allocUnsafe(SPILL_BYTES + FRAMED_RECORD_BYTES),
  ];
  const cpu0 = process.cpuUsage();
  const t0 = now();
  let current = 0;
  let used = 0;
  /** The other buffer's write while it waits for the window (writes go one at a time). */
  let writing: Promise<void> | undefined;
  const spill = (): void => {
    const wait = log.write(buffers[current] as Buffer, used);
    writing = wait?.then(() => {
      writing = undefined;
    });
    current = 1 - current;
    used = 0;
  };
  const append = (lsn: number): Promise<number> => {
    if (used >= SPILL_BYTES) {
      // A buffer is framed into again only once its write is done, and the next write waits for the one before.
      if (writing !== undefined) return writing.then(() => append(lsn));
      spill();
    }
    used += frameRecordByHand(buffers[current] as Buffer, used, lsn, payload);
    return Promise.resolve(lsn);
  };
  let i = 0;
  for (; i < ctx.p.count; i++) await append(i + 2);
  await writing;
  spill();
  await writing;
  await log.finish();
  return { ops: i, seconds: (now() - t0) / 1000, cpuSeconds: cpuSince(cpu0) };
}

export const RAW_WRITE_CASES: Readonly<Record<string, CaseFn>> = {
  "raw.writeFdatasync": (ctx) => writeFdatasyncLoop(ctx, false),
  "raw.writeSyncFdatasyncSync": (ctx) => writeSyncFdatasyncSyncLoop(ctx, false),
  // Context rows: what pre-zeroed segments give on this disk.
  "raw.writeFdatasyncPrezeroed": (ctx) => writeFdatasyncLoop(ctx, true),
  "raw.writeSyncFdatasyncSyncPrezeroed": (ctx) => writeSyncFdatasyncSyncLoop(ctx, true),
  "raw.writeAsync": rawWriteAsync,
  "raw.writeSync": rawWriteSync,
  "raw.encodeFrames": rawEncodeFrames,
  "raw.encodeFramesAwaited": rawEncodeFramesAwaited,
  "raw.encodeFramesContract": rawEncodeFramesContract,
};
