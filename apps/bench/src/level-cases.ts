/** classic-level (LevelDB): puts with and without `sync`, chained batches, and a scan after reopening. */

import { join } from "node:path";
import type { CaseContext, CaseFn, Measure } from "./case-types.js";
import { readMeta } from "./datasets.js";
import { key8, makePayload, PAYLOAD_BYTES } from "./payload.js";
import { closedLoop, cpuSince, now } from "./timing.js";
import { TurnBatcher } from "./turn-batcher.js";

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

/**
 * Durable puts from concurrent writers as an expert batches them: the puts asked for while a batch is written form
 * the next `batch(…, { sync: true })`, and each writer is answered after its batch.
 */
async function levelSyncBatched(ctx: CaseContext): Promise<Measure> {
  const db = await openLevel(ctx.dir);
  const payload = makePayload();
  const batcher = new TurnBatcher<number>((ids) =>
    db.batch(
      ids.map((id) => ({ type: "put" as const, key: key8(id), value: payload })),
      { sync: true },
    ),
  );
  const r = await closedLoop(ctx.p, (i) => batcher.write(i));
  await db.close();
  return r;
}

/** Chained batches of 1000 puts (`sync: false`), the idiomatic bulk write; nothing synced. */
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
  // No final sync: the workload asks for nothing durable (the log side only flushes to the OS).
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
  "level.syncBatched": levelSyncBatched,
  "level.nosync": levelPuts(false),
  "level.bulk": levelBulk,
  "level.scan": levelScan,
};
