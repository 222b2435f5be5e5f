/** The raw read floors of replay: the bandwidth of reading the segment files, and a walk that checks every CRC. */

import { readFile } from "node:fs/promises";
import { crc32 } from "node:zlib";
import type { CaseContext, CaseFn, Measure } from "./case-types.js";
import { readMeta } from "./datasets.js";
import { evictFromPageCache } from "./page-cache.js";
import { segmentFiles } from "./segment-files.js";
import { cpuSince, now } from "./timing.js";

/** `readFile` + one `zlib.crc32` over each whole segment file: the read bandwidth the replay could reach. */
function rawReadCrc(ctx: CaseContext): Promise<Measure> {
  return readCrc(ctx, false);
}

/** {@link rawReadCrc} with the files dropped from the page cache first (`page-cache.ts`). */
function rawReadCrcCold(ctx: CaseContext): Promise<Measure> {
  return readCrc(ctx, true);
}

async function readCrc(ctx: CaseContext, cold: boolean): Promise<Measure> {
  const meta = await readMeta(ctx.dataDir);
  const files = await segmentFiles(ctx.dataDir);
  if (cold) evictFromPageCache(files);
  const cpu0 = process.cpuUsage();
  const t0 = now();
  let bytes = 0;
  let acc = 0;
  for (const f of files) {
    const b = await readFile(f);
    acc ^= crc32(b);
    bytes += b.byteLength;
  }
  const seconds = (now() - t0) / 1000;
  const cpuSeconds = cpuSince(cpu0);
  if (acc === 0.5) throw new Error("unreachable");
  return { ops: meta.records, seconds, cpuSeconds, bytes };
}

/** `readFile` + walk the frames, CRC-32 of each record checked: the per-record floor in JavaScript. */
async function rawReadWalk(ctx: CaseContext): Promise<Measure> {
  const files = await segmentFiles(ctx.dataDir);
  const cpu0 = process.cpuUsage();
  const t0 = now();
  let bytes = 0;
  let records = 0;
  for (const f of files) {
    const b = await readFile(f);
    bytes += b.byteLength;
    let at = 32; // segment header
    while (at + 4 <= b.length) {
      const len = b.readUInt32LE(at);
      if (len < 25 || at + len > b.length) break;
      if (crc32(b.subarray(at, at + len - 4)) !== b.readUInt32LE(at + len - 4)) throw new Error(`bad crc in ${f}`);
      at += len;
      records++;
    }
  }
  return { ops: records, seconds: (now() - t0) / 1000, cpuSeconds: cpuSince(cpu0), bytes };
}

export const RAW_READ_CASES: Readonly<Record<string, CaseFn>> = {
  "raw.readCrc": rawReadCrc,
  "raw.readCrcCold": rawReadCrcCold,
  "raw.readWalk": rawReadWalk,
};
