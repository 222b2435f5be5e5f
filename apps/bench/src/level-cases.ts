/** classic-level (LevelDB): puts with and without `sync`, chained batches, and a scan after reopening. */

import { join } from "node:path";
import type { CaseContext, CaseFn, Measure } from "./case-types.js";
import { readMeta } from "./datasets.js";
import { key8, makePayload, PAYLOAD_BYTES } from "./payload.js";
import { closedLoop, cpuSince, now } from "./timing.js";

async function openLevel(dir: string) {
  const { ClassicLevel } = await import("classic-level");
  const db = new ClassicLevel<Uint8Array, Uint8Array>(join(dir, "level"), {
    keyEncoding: "view",
    valueEncoding: "view",
  });
  await db.open();
  return db;
}

function levelPuts(sync: boolean): CaseFn {
  return async (ctx) => {
    const db = await openLevel(ctx.dir);
    const payload = makePayload();
    const r = await closedLoop(ctx.p, (i) => db.put(key8(i), payload, { sync }));
    await db.close();
    return r;
  };
}

/** Chained batches of 1000 puts (`sync: false`), the idiomatic bulk write; closing flushes. */
async function levelBulk(ctx: CaseContext): Promise<Measure> {
  const db = await openLevel(ctx.dir);
  const payload = makePayload();
  const cpu0 = process.cpuUsage();
  const t0 = now();
  for (let i = 0; i < ctx.p.count; i += 1000) {
    const batch = db.batch();
    for (let j = i; j < Math.min(ctx.p.count, i + 1000); j++) batch.put(key8(j), payload);
    await batch.write();
  }
  await db.put(key8(ctx.p.count), payload, { sync: true });
  const seconds = (now() - t0) / 1000;
  const cpuSeconds = cpuSince(cpu0);
  await db.close();
  return { ops: ctx.p.count, seconds, cpuSeconds };
}

async function levelScan(ctx: CaseContext): Promise<Measure> {
  const meta = await readMeta(ctx.dataDir);
  const db = await openLevel(ctx.dir);
  const payload = makePayload();
  for (let i = 0; i < meta.events; i += 1000) {
    const batch = db.batch();
    for (let j = i; j < Math.min(meta.events, i + 1000); j++) batch.put(key8(j), payload);
    await batch.write();
  }
  await db.close();
  const cpu0 = process.cpuUsage();
  const t0 = now();
  const reopened = await openLevel(ctx.dir);
  let rows = 0;
  for await (const value of reopened.values()) if (value.byteLength === PAYLOAD_BYTES) rows++;
  const seconds = (now() - t0) / 1000;
  const cpuSeconds = cpuSince(cpu0);
  await reopened.close();
  return { ops: rows, seconds, cpuSeconds };
}

export const LEVEL_CASES: Readonly<Record<string, CaseFn>> = {
  "level.sync": levelPuts(true),
  "level.nosync": levelPuts(false),
  "level.bulk": levelBulk,
  "level.scan": levelScan,
};
