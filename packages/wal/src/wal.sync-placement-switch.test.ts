/**
 * In `blockingSync: "auto"` a quick thread-pool round ends the pool's sync loop so that the next round blocks, run
 * from a new run the loop's end schedules. A commit written while that pool round's fdatasync ran is left waiting by
 * it (the round does not cover it): the loop's end must schedule the blocking round for it, or it is never
 * acknowledged. Round times come from the testing clock, so which round is slow is the test's choice, not the
 * machine's.
 */

import { bytesCodec } from "@lora/wal-codec";
import type { OpenMode, WalFile } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { asyncMethodsOf, PassThroughFs } from "../test/pass-through-fs.js";
import { withTestingHooks } from "./testing/index.js";
import type { WalTestingClock } from "./testing-hooks.js";
import { Wal } from "./wal.js";

const SEGMENT = "/w/0000000001.wal";

/** A clock that moves only when the file system says an fdatasync took time. */
class ManualClock implements WalTestingClock {
  at = 0;
  now(): number {
    return this.at;
  }
  interval(): () => void {
    return () => undefined;
  }
}

/**
 * The segment offers both fdatasyncs: the blocking one takes `blockingMs` on the clock; the pool one can be held
 * (after it has made the file durable) until released.
 */
class TimedSyncFs extends PassThroughFs {
  blockingMs = 0;
  blockingSyncs = 0;
  poolSyncs = 0;
  #hold: { arrive: () => void; held: Promise<void> } | undefined;

  constructor(
    inner: SimFS,
    readonly clock: ManualClock,
  ) {
    super(inner);
  }

  /** Hold the next pool fdatasync; `reached` resolves once it is held. */
  holdNext(): { reached: Promise<void>; release: () => void } {
    let arrive: () => void = () => undefined;
    let release: () => void = () => undefined;
    const reached = new Promise<void>((resolve) => {
      arrive = resolve;
    });
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.#hold = { arrive, held };
    return { reached, release };
  }

  override async open(path: string, mode: OpenMode): Promise<WalFile> {
    const file = await this.inner.open(path, mode);
    if (path !== SEGMENT) return file;
    return {
      ...asyncMethodsOf(file),
      writeSync: (data, position) => file.writeSync?.(data, position),
      datasyncSync: () => {
        this.blockingSyncs++;
        file.datasyncSync?.();
        this.clock.at += this.blockingMs;
      },
      datasync: async () => {
        this.poolSyncs++;
        await file.datasync();
        const hold = this.#hold;
        this.#hold = undefined;
        if (hold === undefined) return;
        hold.arrive();
        await hold.held;
      },
    };
  }
}

it("auto: a commit written during a quick pool round is acknowledged by the blocking round after it", async () => {
  const clock = new ManualClock();
  const sim = new SimFS();
  sim.mkdirpSync("/w");
  const fs = new TimedSyncFs(sim, clock);
  const { wal } = await Wal.open("/w", withTestingHooks({ fs, codec: bytesCodec, blockingSync: "auto" }, { clock }));

  // The first round blocks and takes 5 ms on the clock: the next one goes to the pool.
  fs.blockingMs = 5;
  await wal.commitTx([new Uint8Array([1])]);
  expect([fs.blockingSyncs, fs.poolSyncs]).toEqual([1, 0]);
  fs.blockingMs = 0;

  // The pool round, held while a second commit is written; it takes no time on the clock, so the next one blocks.
  const hold = fs.holdNext();
  const first = wal.commitTx([new Uint8Array([2])]);
  await hold.reached;
  let acknowledged = false;
  const second = wal.commitTx([new Uint8Array([3])]).then((info) => {
    acknowledged = true;
    return info;
  });
  hold.release();
  await first;
  expect(fs.poolSyncs).toBe(1);
  // Bounded by turns of the event loop: the blocking round runs in the next check phase.
  for (let i = 0; i < 50 && !acknowledged; i++) await new Promise((resolve) => setImmediate(resolve));
  expect(acknowledged).toBe(true);
  expect(fs.blockingSyncs).toBe(2);
  expect(wal.fsyncedLsn()).toBe((await second)?.commitLsn);
  await wal.close();
});
