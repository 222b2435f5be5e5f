/**
 * A log closed cleanly by `@lora/wal` keeps its mark: "closed", with the durable LSN of that close. A writer that
 * publishes no mark (LoraDB's engine, a handle with `publishDurableLsn: false`) may append to it after, and leaves
 * that mark as it is. No live writer speaks for those records, so a `followDir` follower syncs them itself at once,
 * as with no mark at all: it does not wait `selfSyncAfterMs` for a closed writer's mark to move.
 *
 * The follower runs on a testing clock (fake timers, `Date` included) and is woken only by its polling timer (SimFS
 * has no watch): how long it takes is counted in polls, never measured.
 */

import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { followDir, readCommitted } from "@lora/wal-replay";
import { readDurableMark } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { Wal } from "./wal.js";

const DIR = "/w";
/** Polls the follower is given to deliver; with the mark taken for a live writer's, it needs 240. */
const POLLS = 4;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
});
afterEach(() => {
  vi.useRealTimers();
});

async function durableCommits(fs: SimFS): Promise<number[]> {
  const commits: number[] = [];
  for await (const t of readCommitted<JsonValue>(DIR, { codec: jsonCodec, fs: fs.durableImage() })) {
    commits.push(t.commitLsn);
  }
  return commits;
}

it(`after a clean close, a foreign writer's commit is synced and delivered within ${POLLS} polls`, async () => {
  const fs = SimFS.withDir(DIR);
  const first = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec });
  await first.wal.commitTx(["a"]);
  await first.wal.close();

  const stop = new AbortController();
  const follower = followDir<JsonValue>(DIR, {
    fs,
    codec: jsonCodec,
    signal: stop.signal,
    pollIntervalMs: 250,
    selfSyncAfterMs: 60_000,
  });
  const a = await follower.next();
  expect(a.done === false && a.value.commitLsn).toBe(3);

  // The next writer publishes nothing: the mark stays the closed one, durable at 3. Its commit is not synced.
  const foreign = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec, syncMode: "none", publishDurableLsn: false });
  await foreign.wal.commitTx(["b"]);
  expect(await readDurableMark(fs, DIR)).toMatchObject({ durableLsn: 3, closed: true });
  expect(await durableCommits(fs)).toEqual([3]);

  let settled = false;
  const next = follower.next().finally(() => {
    settled = true;
  });
  let polls = 0;
  for (; polls < POLLS && !settled; polls++) await vi.advanceTimersToNextTimerAsync();
  // Past the bound: stop it, so that a follower still waiting ends (done) and the check below reports it.
  stop.abort();
  const b = await next;
  expect(b.done === false && [b.value.commitLsn, b.value.events]).toEqual([6, ["b"]]);
  expect(await durableCommits(fs)).toEqual([3, 6]);
  await follower.return();
  await foreign.wal.close();
});
