/**
 * A follower reading the newest segment of a log whose writer published no mark (LoraDB's engine, a handle with
 * `publishDurableLsn: false`), when the next writer's `point-in-time` recovery cuts an earlier segment and moves the
 * one it reads aside (`.broken`), creating a segment of the same name in its place: the file it holds open never
 * changes again, so only the new writer's mark, the first the follower sees, can tell it that a writer restarted. It
 * must read the new history from there, not wait on the moved-aside file for ever.
 *
 * The follower runs on a testing clock (fake timers, `Date` included) and is woken only by its polling timer (SimFS
 * has no watch): the wait is bounded by a count of polls.
 */

import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { followDir } from "@lora/wal-replay";
import { segmentPath } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { offsetOf } from "./test-support/record-offset.js";
import { Wal } from "./wal.js";

const DIR = "/w";
/** Polls the follower is given to deliver from the new history. */
const POLLS = 20;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
});
afterEach(() => {
  vi.useRealTimers();
});

it(`a follower on a segment moved aside reads the new history the first mark announces, within ${POLLS} polls`, async () => {
  const fs = SimFS.withDir(DIR);
  const options = { fs, codec: jsonCodec, syncMode: "none" } as const;
  const { wal } = await Wal.open<JsonValue>(DIR, { ...options, segmentTargetBytes: 200, publishDurableLsn: false });
  for (let i = 0; i < 5; i++) await wal.commitTx([`o${i}`]);
  expect(wal.activeSegmentId()).toBe(2);
  await wal.close();

  const stop = new AbortController();
  const follower = followDir<JsonValue>(DIR, { fs, codec: jsonCodec, signal: stop.signal, selfSyncAfterMs: 0 });
  for (let i = 0; i < 5; i++) expect((await follower.next()).value?.events).toEqual([`o${i}`]);

  // A bit rots in the second transaction's begin (LSN 4), in segment 1: point-in-time cuts there and moves segment 2,
  // the one the follower reads, aside. The new writer (publishing its mark) writes from LSN 4 on.
  const first = segmentPath(DIR, 1);
  const bytes = fs.readFileSync(first);
  const at = (await offsetOf(fs, first, 4)) + 20;
  bytes[at] = (bytes[at] as number) ^ 0x01;
  fs.writeFileSync(first, bytes);
  const reopened = await Wal.open<JsonValue>(DIR, { ...options, recovery: "point-in-time" });
  expect(reopened.healed).toMatchObject([
    { kind: "corruptionCut", segment: first, laterSegmentsMoved: [`${segmentPath(DIR, 2)}.broken`] },
    { kind: "sealedSegmentSucceeded", sealed: first, created: segmentPath(DIR, 2) },
  ]);
  for (let i = 0; i < 6; i++) await reopened.wal.commitTx([`n${i}`]);
  await reopened.wal.sync();

  let settled = false;
  const next = follower.next().finally(() => {
    settled = true;
  });
  for (let polls = 0; polls < POLLS && !settled; polls++) await vi.advanceTimersToNextTimerAsync();
  // Past the bound: stop it, so that a follower still waiting ends (done) and the check below reports it.
  stop.abort();
  // It delivered up to 15 (the old history's last commit); the new history's transactions below are skipped.
  const n = await next;
  expect(n.done === false && [n.value.beginLsn, n.value.commitLsn, n.value.events]).toEqual([16, 18, ["n4"]]);
  await follower.return();
  await reopened.wal.close();
});
