/** The @lora/wal cases: commits in each sync mode, buffered appends, replay and the streaming open. */

import { Wal } from "@lora/wal";
import { bytesCodec } from "@lora/wal-codec";
import { loraCodec } from "@lora/wal-codec/lora";
import { replayDir } from "@lora/wal-replay";
import type { CaseContext, CaseFn, Measure } from "./case-types.js";
import { evictFromPageCache } from "./page-cache.js";
import { makePayload } from "./payload.js";
import { dirBytes, segmentFiles } from "./segment-files.js";
import { closedLoop, cpuSince, now } from "./timing.js";

/** Closed-loop `commitTx`; `blockingSync` only when given (the handle's default, `"auto"`, otherwise). */
async function loraCommits(ctx: CaseContext, syncMode: "perCommit" | "none", blockingSync?: boolean): Promise<Measure> {
  const { wal } = await Wal.open(ctx.dir, {
    codec: bytesCodec,
    syncMode,
    ...(blockingSync === undefined ? {} : { blockingSync }),
  });
  const payload = makePayload();
  const r = await closedLoop(ctx.p, () => wal.commitTx([payload]));
  const io = wal.ioStats();
  await wal.close();
  return { ...r, writes: io.writes, syncs: io.syncs };
}

/** Buffered appends: transactions of 1000 `appendBatch` records, one `flush()` at the end. */
async function loraBuffered(ctx: CaseContext): Promise<Measure> {
  const { wal } = await Wal.open(ctx.dir, { codec: bytesCodec, syncMode: "perCommit" });
  const payload = makePayload();
  const events = [payload];
  const cpu0 = process.cpuUsage();
  const t0 = now();
  const deadline = t0 + ctx.p.timeLimitMs;
  let done = 0;
  while (done < ctx.p.count && now() < deadline) {
    const tx = await wal.begin();
    const m = Math.min(1000, ctx.p.count - done);
    for (let j = 0; j < m; j++) await wal.appendBatch(tx, events);
    await wal.commit(tx);
    done += m;
  }
  await wal.flush();
  const seconds = (now() - t0) / 1000;
  const cpuSeconds = cpuSince(cpu0);
  const io = wal.ioStats();
  await wal.close();
  return { ops: done, seconds, cpuSeconds, writes: io.writes, syncs: io.syncs };
}

function loraReplay(ctx: CaseContext): Promise<Measure> {
  return replayRecords(ctx, false);
}

/** {@link loraReplay} with the segment files dropped from the page cache first (`page-cache.ts`). */
function loraReplayCold(ctx: CaseContext): Promise<Measure> {
  return replayRecords(ctx, true);
}

async function replayRecords(ctx: CaseContext, cold: boolean): Promise<Measure> {
  const bytes = await dirBytes(ctx.dataDir);
  if (cold) evictFromPageCache(await segmentFiles(ctx.dataDir));
  const cpu0 = process.cpuUsage();
  const t0 = now();
  const replay = replayDir(ctx.dataDir, { codec: bytesCodec });
  let events = 0;
  for await (const tx of replay) events += tx.events.length;
  const outcome = await replay.outcome();
  const seconds = (now() - t0) / 1000;
  const cpuSeconds = cpuSince(cpu0);
  if (events === 0) throw new Error("replay found no events");
  return { ops: outcome.records, seconds, cpuSeconds, bytes };
}

/** Replay counted in events (100-byte payloads), for comparison with stores that read rows back. */
async function loraReplayEvents(ctx: CaseContext): Promise<Measure> {
  const cpu0 = process.cpuUsage();
  const t0 = now();
  let events = 0;
  for await (const tx of replayDir(ctx.dataDir, { codec: bytesCodec })) events += tx.events.length;
  return { ops: events, seconds: (now() - t0) / 1000, cpuSeconds: cpuSince(cpu0) };
}

/** Streaming open: `Wal.open` with `onTransaction` (replay, heal checks, writer ready), then close. */
async function loraOpenStreaming(ctx: CaseContext): Promise<Measure> {
  const bytes = await dirBytes(ctx.dataDir);
  let events = 0;
  const cpu0 = process.cpuUsage();
  const t0 = now();
  const { wal, replay } = await Wal.open(ctx.dataDir, {
    codec: bytesCodec,
    onTransaction: (tx) => {
      events += tx.events.length;
    },
  });
  const seconds = (now() - t0) / 1000;
  const cpuSeconds = cpuSince(cpu0);
  await wal.close();
  if (events === 0) throw new Error("open replayed no events");
  return { ops: replay?.records ?? 0, seconds, cpuSeconds, bytes };
}

/** Replay a LoraDB-written directory with `loraCodec` (decodes every LW1 event); counted in mutation events. */
async function loraReplayLoraDir(ctx: CaseContext): Promise<Measure> {
  const cpu0 = process.cpuUsage();
  const t0 = now();
  let events = 0;
  for await (const tx of replayDir(ctx.dataDir, { codec: loraCodec })) events += tx.events.length;
  return { ops: events, seconds: (now() - t0) / 1000, cpuSeconds: cpuSince(cpu0) };
}

export const LORA_CASES: Readonly<Record<string, CaseFn>> = {
  "lora.perCommit": (ctx) => loraCommits(ctx, "perCommit"),
  "lora.perCommitBlocking": (ctx) => loraCommits(ctx, "perCommit", true),
  "lora.perCommitPool": (ctx) => loraCommits(ctx, "perCommit", false),
  "lora.none": (ctx) => loraCommits(ctx, "none"),
  "lora.buffered": loraBuffered,
  "lora.replay": loraReplay,
  "lora.replayCold": loraReplayCold,
  "lora.replayEvents": loraReplayEvents,
  "lora.openStreaming": loraOpenStreaming,
  "lora.replayLoraDir": loraReplayLoraDir,
};
