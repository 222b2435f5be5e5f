/** The raw `fs` baselines of the write workloads: plain writes with and without a sync, and hand-framed records. */

import * as fs from "node:fs";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { cbDatasync, cbWrite } from "./callback-fs.js";
import type { CaseContext, CaseFn, Measure } from "./case-types.js";
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

/** One hand-framed MutationBatch record of one 100-byte event: LoraDB's layout, CRC-32 per record. */
const FRAMED_RECORD_BYTES = 4 + 1 + 8 + 8 + 8 + 8 + PAYLOAD_BYTES + 4;

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
      const at = used;
      buf.writeUInt32LE(FRAMED_RECORD_BYTES, at);
      buf[at + 4] = 6;
      buf.writeUInt32LE(lsn, at + 5);
      buf.writeUInt32LE(0, at + 9);
      buf.writeUInt32LE(1, at + 13);
      buf.writeUInt32LE(0, at + 17);
      buf.writeUInt32LE(1, at + 21);
      buf.writeUInt32LE(0, at + 25);
      buf.writeUInt32LE(PAYLOAD_BYTES, at + 29);
      buf.writeUInt32LE(0, at + 33);
      buf.set(payload, at + 37);
      const body = at + FRAMED_RECORD_BYTES - 4;
      buf.writeUInt32LE(crc32(buf.subarray(at, body)), body);
      used += FRAMED_RECORD_BYTES;
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
};
