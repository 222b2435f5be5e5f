/**
 * Resume tokens cost a constant amount of work per commit, however many transactions are open. Each token's
 * restart point is the lowest begin among the open transactions, and it was found by looking at every one of them
 * at every commit: a log where a crashed writer left `n` transactions open (they never commit) followed by `n`
 * committed ones cost n² steps to read with tokens (`readCommitted`, `followDir`): 40 000 of each took ~3 s, 160 000
 * would take ~50 s. Counted (the entries of maps iterated), not timed, so a busy machine cannot change the verdict.
 */

import { jsonCodec } from "@lora/wal-codec";
import { SegmentWriter, segmentPath } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { afterEach, describe, expect, it } from "vitest";
import { followDir } from "./follow-dir.js";
import { readCommitted } from "./read-committed.js";

const DIR = "/w";

/** `open` begins left open (a crashed writer's), then `committed` transactions of one event each. */
async function logWithOpenTransactions(open: number, committed: number): Promise<SimFS> {
  const fs = new SimFS();
  fs.mkdirpSync(DIR);
  const writer = await SegmentWriter.create(fs, segmentPath(DIR, 1), 1);
  let lsn = 1;
  for (let i = 0; i < open; i++) writer.append({ kind: "txBegin", lsn: lsn++ }, jsonCodec);
  for (let i = 0; i < committed; i++) {
    const begin = lsn++;
    writer.append({ kind: "txBegin", lsn: begin }, jsonCodec);
    writer.append({ kind: "mutation", lsn: lsn++, txBeginLsn: begin, event: i }, jsonCodec);
    writer.append({ kind: "txCommit", lsn: lsn++, txBeginLsn: begin }, jsonCodec);
  }
  await writer.flush();
  await writer.close();
  return fs;
}

/** Entries yielded by every map iterator created while counting: the work of looking at open transactions. */
let visited = 0;
const originals: [PropertyKey, unknown][] = [];
function countMapIteration(): void {
  visited = 0;
  for (const key of ["keys", "values", "entries", Symbol.iterator] as const) {
    const original = Map.prototype[key] as (this: Map<unknown, unknown>) => IterableIterator<unknown>;
    originals.push([key, original]);
    Object.defineProperty(Map.prototype, key, {
      configurable: true,
      writable: true,
      value(this: Map<unknown, unknown>) {
        const inner = original.call(this);
        return {
          next() {
            const step = inner.next();
            if (!step.done) visited++;
            return step;
          },
          [Symbol.iterator]() {
            return this;
          },
        };
      },
    });
  }
}
afterEach(() => {
  for (const [key, value] of originals.splice(0)) {
    Object.defineProperty(Map.prototype, key, { configurable: true, writable: true, value });
  }
});

const OPEN = 2000;
const COMMITTED = 2000;

describe("resume tokens with many transactions left open", () => {
  it("readCommitted: every token restarts at the lowest open begin, at constant work per commit", async () => {
    const fs = await logWithOpenTransactions(OPEN, COMMITTED);
    countMapIteration();
    const restarts = new Set<number>();
    let count = 0;
    for await (const tx of readCommitted(DIR, { fs, codec: jsonCodec })) {
      restarts.add(tx.restartLsn);
      count++;
    }
    const work = visited;
    expect(count).toBe(COMMITTED);
    expect([...restarts]).toEqual([1]); // the crashed writer's first begin holds every token back
    // Linear in the records (before: OPEN · COMMITTED = 4 000 000).
    expect(work).toBeLessThanOrEqual(4 * (OPEN + 3 * COMMITTED));
  });

  it("followDir: the same", async () => {
    const fs = await logWithOpenTransactions(OPEN, COMMITTED);
    const stop = new AbortController();
    countMapIteration();
    const restarts = new Set<number>();
    let count = 0;
    const follower = followDir(DIR, {
      fs,
      codec: jsonCodec,
      durability: "written",
      watch: false,
      pollIntervalMs: 1,
      signal: stop.signal,
    });
    for await (const tx of follower) {
      restarts.add(tx.restartLsn);
      if (++count === COMMITTED) break;
    }
    const work = visited;
    stop.abort();
    expect([...restarts]).toEqual([1]);
    expect(work).toBeLessThanOrEqual(4 * (OPEN + 3 * COMMITTED));
  });
});
