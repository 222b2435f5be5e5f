/**
 * The archiver's lag bookkeeping (when each durable LSN became durable) costs work linear in the durable events,
 * also when a store outage lets them pile up. After each segment it caught up on, it kept the unarchived entries by
 * filtering every entry still held, so catching up k segments after an outage of n durable events cost about k·n/2
 * steps (8000 commits over 94 segments: 380 000), in the writer's own process. Counted, not timed.
 */

import { Wal } from "@lora/wal";
import { bytesCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { type ArchivableWal, startArchiver, type WalLifecycleEvent } from "./archiver.js";
import { memoryArchive } from "./memory-archive.js";

const DIR = "/w";
const event = new Uint8Array(100).fill(7);

/**
 * Archive a log through an outage of `commits` commits (one durable event each) and catch up after it; how often the
 * archiver compared a durable LSN it was handed. Each is handed over as an object that counts the comparisons made
 * with it, so the count is the bookkeeping's work whatever shape the bookkeeping takes.
 */
async function comparisonsThroughOutage(commits: number): Promise<number> {
  const sim = new SimFS();
  sim.mkdirpSync(DIR);
  const store = memoryArchive();
  const { wal } = await Wal.open(DIR, { fs: sim, codec: bytesCodec, segmentTargetBytes: 16 * 1024 });
  let comparisons = 0;
  const counted = (lsn: number): number =>
    ({
      valueOf() {
        comparisons++;
        return lsn;
      },
    }) as unknown as number;
  const view: ArchivableWal = {
    dir: () => wal.dir(),
    fsyncedLsn: () => wal.fsyncedLsn(),
    retain: (name, position) => wal.retain(name, position),
    onLifecycle: (listener) =>
      wal.onLifecycle((e) => listener(e.type === "durable" ? ({ ...e, lsn: counted(e.lsn) } as WalLifecycleEvent) : e)),
  };
  const archiver = startArchiver(view, {
    store,
    fs: sim,
    intervalMs: 3_600_000,
    retry: { initialMs: 1, maxMs: 1, failingAfter: Number.MAX_SAFE_INTEGER },
  });
  await archiver.flush();
  const outage = store.injectFault({ op: "put", times: Number.POSITIVE_INFINITY });
  for (let i = 0; i < commits; i++) await wal.commitTx([event]);
  const segments = wal.activeSegmentId();
  outage.cancel();
  await archiver.flush();
  const status = archiver.status();
  expect(status.archivedLsn).toBe(wal.fsyncedLsn());
  expect(status.uploadedSegments).toBe(segments - 1);
  expect(status.lagMs).toBe(0);
  await archiver.stop();
  await wal.close();
  return comparisons;
}

it("catching up after a store outage compares each durable LSN a bounded number of times", async () => {
  for (const commits of [1000, 4000]) {
    // A few comparisons per durable event: linear (before, about segments · commits / 2).
    expect(await comparisonsThroughOutage(commits)).toBeLessThanOrEqual(8 * commits);
  }
});
