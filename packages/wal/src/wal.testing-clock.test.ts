/**
 * The `clock` testing hook: a harness's clock runs the group flusher and times the sync rounds, so what a handle does
 * follows the harness's count of ticks, not the machine's speed (torture Tier R). Without the hook, Node's timers.
 */

import { jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { withTestingHooks } from "./testing/index.js";
import type { WalTestingClock } from "./testing-hooks.js";
import { Wal } from "./wal.js";

/** A clock that moves only when told; intervals fire as it passes them. */
class StepClock implements WalTestingClock {
  at = 0;
  /** Added to `at` at every `now()` call: how long each timed step seems to take. */
  step = 0;
  readonly intervals = new Map<number, { every: number; next: number; callback: () => void }>();
  #id = 0;

  now(): number {
    this.at += this.step;
    return this.at;
  }

  interval(callback: () => void, ms: number): () => void {
    const id = this.#id++;
    this.intervals.set(id, { every: ms, next: this.at + ms, callback });
    return () => this.intervals.delete(id);
  }

  advance(ms: number): void {
    this.at += ms;
    for (const t of this.intervals.values()) {
      while (t.next <= this.at) {
        t.next += t.every;
        t.callback();
      }
    }
  }
}

async function turns(n = 20): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

it("group mode: the flusher runs when the hook's clock passes its interval, not when real time does", async () => {
  const clock = new StepClock();
  const fs = new SimFS();
  const { wal } = await Wal.open(
    "/w",
    withTestingHooks({ fs, codec: jsonCodec, syncMode: { mode: "group", intervalMs: 2 } }, { clock }),
  );
  expect(clock.intervals.size).toBe(1);
  const info = await wal.commitTx(["a"]);
  let durable = false;
  void wal.whenDurable(info?.commitLsn ?? 0).then(() => {
    durable = true;
  });
  // Real time past the interval, and a wait no load makes vacuous: Node fires due timers in order of due time, so a
  // 2 ms Node interval armed at open would run before this later one; its round (all in memory) then gets 20 turns.
  await new Promise((resolve) => setTimeout(resolve, 20));
  await turns();
  expect(durable).toBe(false);
  expect(wal.fsyncedLsn()).toBe(0);
  clock.advance(2);
  await turns();
  expect(durable).toBe(true);
  expect(wal.fsyncedLsn()).toBe(info?.commitLsn);
  await wal.close();
  expect(clock.intervals.size).toBe(0);
});

it('blockingSync "auto" times its rounds on the hook\'s clock', async () => {
  // Every round seems to take 5 ms (more than auto's 1 ms limit): after the first, rounds go to the pool.
  const clock = new StepClock();
  clock.step = 5;
  const fs = new SimFS();
  const { wal } = await Wal.open(
    "/w",
    withTestingHooks({ fs, codec: jsonCodec, syncMode: "perCommit", blockingSync: "auto" }, { clock }),
  );
  const before = clock.at;
  for (let i = 0; i < 3; i++) await wal.commitTx([i]);
  // Two readings (start, end) per round: the rounds were timed on the hook's clock.
  expect(clock.at - before).toBe(3 * 2 * 5);
  expect(wal.ioStats().syncLatency).toMatchObject({ count: 3, sumMs: 15, maxMs: 5 });
  await wal.close();
});

it("group mode: a flusher round writes and fsyncs what is buffered, so a low-level commit is durable after it", async () => {
  // `commit()` only buffers its record; in group mode the flusher is what makes it durable, without a flush or sync.
  const clock = new StepClock();
  const fs = new SimFS();
  const { wal } = await Wal.open(
    "/w",
    withTestingHooks({ fs, codec: jsonCodec, syncMode: { mode: "group", intervalMs: 2 } }, { clock }),
  );
  const tx = await wal.begin();
  await wal.append(tx, "buffered");
  const commitLsn = await wal.commit(tx);
  await turns();
  expect(wal.fsyncedLsn()).toBe(0);
  clock.advance(2);
  await turns();
  expect(wal.fsyncedLsn()).toBe(commitLsn);
  const { events } = await Wal.open("/w", { fs: fs.durableImage(), codec: jsonCodec });
  expect(events).toEqual(["buffered"]);
  await wal.close();
});
