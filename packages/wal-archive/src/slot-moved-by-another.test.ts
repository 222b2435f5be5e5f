/**
 * The archiver's slot has one consumer: the archiver. Another that moves it past what the archive holds (a follower
 * opened with the archiver's slot name, `advanceSlot` by hand, a slot created ahead with `lora-wal slots create --at`)
 * leaves the segments the archive lacks unprotected from truncation by another process or after a restart: a gap the
 * archive will have later. The archiver cannot move the slot back, so it reports it (`status().slotProblem`,
 * `lastError`, `onStateChange`, code `WAL_SLOT_MOVED`) and goes on archiving; dropping the slot is the remedy (the
 * archiver creates it again at its own position). Real files: the follower reads the directory as another process
 * would.
 */

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Wal } from "@lora/wal";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { createSlot, dropSlot, followDir, readSlot } from "@lora/wal-replay";
import { afterEach, beforeEach, expect, it } from "vitest";
import { type Archiver, type ArchiverStatus, startArchiver } from "./archiver.js";
import { memoryArchive } from "./memory-archive.js";
import { ManualClock } from "./testing/manual-clock.js";
import { withArchiverClock } from "./testing/with-archiver-clock.js";

let parent = "";
beforeEach(async () => {
  parent = await mkdtemp(join(tmpdir(), "slot-moved-"));
});
afterEach(async () => {
  await rm(parent, { recursive: true, force: true });
});

async function rotateTo(wal: Wal<JsonValue>, id: number): Promise<number> {
  let last = 0;
  for (let i = 0; wal.activeSegmentId() < id || last === 0; i++) {
    last = (await wal.commitTx([{ i, pad: "p".repeat(30) }]))?.commitLsn as number;
  }
  return last;
}

function started(wal: Wal<JsonValue>, store: ReturnType<typeof memoryArchive>, clock: ManualClock) {
  const changes: ArchiverStatus[] = [];
  const waiting: { test: (s: ArchiverStatus) => boolean; resolve: () => void }[] = [];
  const archiver: Archiver = startArchiver(
    wal,
    withArchiverClock(
      {
        store,
        intervalMs: 5,
        retry: { initialMs: 1, maxMs: 1, failingAfter: 1000 },
        onStateChange: (s) => {
          changes.push(s);
          for (const w of waiting.filter((w) => w.test(s))) {
            waiting.splice(waiting.indexOf(w), 1);
            w.resolve();
          }
        },
      },
      clock,
    ),
  );
  /**
   * Resolves once the status passes `test`, as now or as reported to `onStateChange`: waits on the archiver's own
   * report rather than a count of event-loop turns, which a loaded machine's slower file reads would outrun.
   */
  const reaches = (test: (s: ArchiverStatus) => boolean) =>
    test(archiver.status()) ? Promise.resolve() : new Promise<void>((resolve) => waiting.push({ test, resolve }));
  return { archiver, changes, reaches };
}

it("reports a follower with the archiver's slot name confirming past the archive, keeps archiving, and takes the slot back once dropped", async () => {
  const dir = join(parent, "wal");
  const { wal } = await Wal.open<JsonValue>(dir, { codec: jsonCodec, segmentTargetBytes: 300 });
  const clock = new ManualClock();
  const store = memoryArchive();
  const { archiver, changes, reaches } = started(wal, store, clock);
  await archiver.flush();
  expect(archiver.status().slotProblem).toBeNull();

  // The store goes down: the sealed segments from here on wait for their upload.
  const outage = store.injectFault({ op: "put", times: Number.POSITIVE_INFINITY });
  const last = await rotateTo(wal, 4);
  const stop = new AbortController();
  const follower = followDir<JsonValue>(dir, {
    codec: jsonCodec,
    slot: "archive",
    watch: false,
    pollIntervalMs: 1,
    signal: stop.signal,
  });
  for await (const tx of follower) {
    if (tx.commitLsn < last) continue;
    await follower.confirm(tx);
    break;
  }
  stop.abort();
  // The slot file no longer keeps segments 1 to 3, which the archive lacks: only this process's hold does.
  expect((await readSlot(dir, "archive")).confirmedLsn).toBe(last);
  expect(archiver.status().archivedLsn).toBeLessThan((await wal.segments())[3]?.baseLsn as number);

  // The archiver looks at its slot once per interval, also while the store is down.
  clock.advance(5);
  await reaches((s) => s.slotProblem !== null);
  expect(archiver.status().lastError?.code).toBe("WAL_SLOT_MOVED");
  const problem = archiver.status().slotProblem;
  expect(problem).toMatchObject({ code: "WAL_SLOT_MOVED", details: { slot: "archive", lsn: last } });
  expect(archiver.status().lastError).toBe(problem);
  expect(changes.map((c) => c.slotProblem)).toContain(problem);

  // Archiving goes on: the store back, everything durable is archived; the slot is still past the archiver's position.
  outage.cancel();
  await archiver.flush();
  expect(archiver.status()).toMatchObject({ archivedLsn: wal.fsyncedLsn(), pendingSegments: 0 });
  expect(archiver.status().slotProblem?.code).toBe("WAL_SLOT_MOVED");

  // The remedy: the other consumer gone, drop the slot; the archiver creates it again at its own position.
  await dropSlot(dir, "archive");
  clock.advance(5);
  await reaches((s) => s.slotProblem === null);
  const activeBase = (await wal.segments()).at(-1)?.baseLsn as number;
  expect((await readSlot(dir, "archive")).confirmedLsn).toBe(activeBase - 1);
  expect((changes.at(-1) as ArchiverStatus).slotProblem).toBeNull();
  await archiver.stop();
  await wal.close();
});

it("reports at attach a slot found ahead of what the store holds, but not the slot a previous run left", async () => {
  const dir = join(parent, "wal");
  const { wal } = await Wal.open<JsonValue>(dir, { codec: jsonCodec, segmentTargetBytes: 300 });
  let last = await rotateTo(wal, 3);
  const store = memoryArchive();

  // A previous run of the archiver with this store: its slot is at what the store holds, never past it.
  const first = started(wal, store, new ManualClock());
  await first.archiver.flush();
  await first.archiver.stop();
  last = await rotateTo(wal, 5);
  const again = started(wal, store, new ManualClock());
  await again.archiver.flush();
  expect(again.archiver.status().slotProblem).toBeNull();
  expect(again.archiver.status().lastError).toBeNull();
  await again.archiver.stop();

  // The slot moved ahead while no archiver ran, and a new store: the archive lacks everything the slot has passed.
  await dropSlot(dir, "archive");
  await createSlot(dir, "archive", { confirmedLsn: last });
  const fresh = memoryArchive({ name: "fresh" });
  const ahead = started(wal, fresh, new ManualClock());
  await ahead.archiver.flush();
  expect(ahead.archiver.status().archivedLsn).toBe(wal.fsyncedLsn());
  expect(ahead.archiver.status().slotProblem).toMatchObject({
    code: "WAL_SLOT_MOVED",
    details: { slot: "archive", lsn: last },
  });
  expect(ahead.archiver.status().lastError?.code).toBe("WAL_SLOT_MOVED");
  await ahead.archiver.stop();
  await wal.close();
});
