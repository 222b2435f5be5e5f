/**
 * A caller's mistake in a reader's options, or a replay iterated twice, is refused with its code before any further
 * look at the log, and changes nothing: the replay already under way, or the next correct call, is unaffected.
 */

import { bytesCodec } from "@lora/wal-codec";
import { SegmentWriter, segmentPath } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { readCommitted } from "./read-committed.js";
import { replayDir } from "./replay.js";

const DIR = "/w";

/** A log of two committed transactions (LSNs 1-3 and 4-6). */
async function twoTransactions(): Promise<SimFS> {
  const fs = SimFS.withDir(DIR);
  const writer = await SegmentWriter.create(fs, segmentPath(DIR, 1), 1);
  for (const begin of [1, 4]) writer.appendCommitTx(begin, [Uint8Array.of(begin)], bytesCodec);
  await writer.flush();
  await writer.close();
  return fs;
}

/** Every counter of `fs` that an operation moves. */
function operations(fs: SimFS): number {
  return Object.values(fs.stats).reduce((a, b) => a + b, 0);
}

describe("caller mistakes in replay and readCommitted", () => {
  it("replayDir refuses an onProgress that is not a function, at the call, touching nothing", async () => {
    const fs = await twoTransactions();
    const before = operations(fs);
    for (const onProgress of [5, "log", {}, null]) {
      expect(() => replayDir(DIR, { fs, codec: bytesCodec, onProgress } as never)).toThrow(
        expect.objectContaining({ code: "WAL_INVALID_OPTION", message: "onProgress must be a function" }),
      );
    }
    expect(operations(fs)).toBe(before);
  });

  it("a replay iterated a second time is refused, and the first iteration goes on to the end", async () => {
    const fs = await twoTransactions();
    const replay = replayDir(DIR, { fs, codec: bytesCodec });
    const first = replay[Symbol.asyncIterator]();
    const tx1 = await first.next();
    expect(tx1.value).toMatchObject({ beginLsn: 1, commitLsn: 3 });
    expect(() => replay[Symbol.asyncIterator]()).toThrow(expect.objectContaining({ code: "WAL_INVALID_ARGUMENT" }));
    expect((await first.next()).value).toMatchObject({ beginLsn: 4, commitLsn: 6 });
    expect((await first.next()).done).toBe(true);
    expect(await replay.outcome()).toMatchObject({ committedTransactions: 2, complete: true, maxLsn: 6 });
    // outcome() of a replay already iterated does not iterate it again.
    expect(() => replay[Symbol.asyncIterator]()).toThrow(expect.objectContaining({ code: "WAL_INVALID_ARGUMENT" }));
  });

  it("replayDir refuses a restartLsn without after; readCommitted, whose after is 0 by default, one above 1", async () => {
    const fs = await twoTransactions();
    const before = operations(fs);
    expect(() => replayDir(DIR, { fs, codec: bytesCodec, restartLsn: 1 })).toThrow(
      expect.objectContaining({
        code: "WAL_INVALID_OPTION",
        message: "restartLsn needs after (the token's commit LSN)",
      }),
    );
    await expect(readCommitted(DIR, { fs, codec: bytesCodec, restartLsn: 2 }).next()).rejects.toMatchObject({
      code: "WAL_INVALID_OPTION",
      message: expect.stringContaining("restartLsn must lie between 1 and after + 1 (1), got 2"),
    });
    expect(operations(fs)).toBe(before);
    const commits: number[] = [];
    for await (const tx of readCommitted(DIR, { fs, codec: bytesCodec, after: 3, restartLsn: 4 })) {
      commits.push(tx.commitLsn);
    }
    expect(commits).toEqual([6]);
  });
});
