/**
 * Group mode's flusher fsyncs what was appended since the last sync round, buffered or written: a low-level append
 * still in the handle's buffer (below the 512 KiB that writes it) is written by the round and then covered by its
 * fdatasync. An idle log gets no fdatasync. The flusher runs on the test's clock, one round per tick.
 */

import { bytesCodec } from "@lora/wal-codec";
import type { OpenMode, WalFile } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { asyncMethodsOf, PassThroughFs } from "../test/pass-through-fs.js";
import { withTestingHooks } from "./testing/index.js";
import type { WalTestingClock } from "./testing-hooks.js";
import { Wal } from "./wal.js";

/** Counts the fdatasyncs and writes of segment files. */
class CountingFs extends PassThroughFs {
  datasyncs = 0;
  writes = 0;
  override async open(path: string, mode: OpenMode): Promise<WalFile> {
    const file = await this.inner.open(path, mode);
    if (!path.endsWith(".wal")) return file;
    return {
      ...asyncMethodsOf(file),
      write: (data, position) => {
        this.writes++;
        return file.write(data, position);
      },
      datasync: () => {
        this.datasyncs++;
        return file.datasync();
      },
    };
  }
}

/** The flusher's interval, run by hand. */
class TickClock implements WalTestingClock {
  #rounds: (() => void)[] = [];
  now(): number {
    return 0;
  }
  interval(callback: () => void): () => void {
    this.#rounds.push(callback);
    return () => {
      this.#rounds = this.#rounds.filter((round) => round !== callback);
    };
  }
  tick(): void {
    for (const round of this.#rounds) round();
  }
}

/** Let a started round finish: a bounded count of turns of the event loop. */
async function settle(): Promise<void> {
  for (let turn = 0; turn < 50; turn++) await new Promise((resolve) => setImmediate(resolve));
}

it("group mode: a tick fsyncs buffered appends (writing them first) and skips an idle log", async () => {
  const sim = new SimFS();
  const fs = new CountingFs(sim);
  const clock = new TickClock();
  const { wal } = await Wal.open(
    "/w",
    withTestingHooks({ fs, codec: bytesCodec, syncMode: { mode: "group", intervalMs: 100 } }, { clock }),
  );
  try {
    clock.tick();
    await settle();
    const idle = { datasyncs: fs.datasyncs, writes: fs.writes };
    clock.tick();
    await settle();
    expect({ datasyncs: fs.datasyncs, writes: fs.writes }).toEqual(idle);

    const durableSize = () => sim.durableImage().readFileSync("/w/0000000001.wal").length;
    const tx = await wal.begin();
    const last = await wal.append(tx, new Uint8Array([1, 2, 3]));
    // Buffered: not written, not durable.
    expect(fs.writes).toBe(idle.writes);
    expect(wal.fsyncedLsn()).toBeLessThan(last);
    const beforeRound = durableSize();

    clock.tick();
    await settle();
    expect(fs.writes).toBeGreaterThan(idle.writes);
    expect(fs.datasyncs).toBe(idle.datasyncs + 1);
    expect(wal.fsyncedLsn()).toBeGreaterThanOrEqual(last);
    // A power loss now keeps the appended record: the segment's durable bytes grew by it.
    expect(durableSize()).toBeGreaterThan(beforeRound);
  } finally {
    await wal.close();
  }
});
