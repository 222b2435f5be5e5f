/**
 * A follower's signal ends it at once: after `abort()`, `next()` is done even when transactions were read ahead
 * and are queued (a `for await` that aborts in its body must not go on through up to a queue's worth of them).
 * And a refused `wal.follow` leaves nothing behind.
 */

import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it, vi } from "vitest";
import { followDir, type JsonValue, jsonCodec, Wal } from "./index.js";
import { RecentCommits } from "./recent-commits.js";

describe("a follower whose signal aborted", () => {
  it("wal.follow: next() is done, though committed transactions are queued", async () => {
    const fs = new SimFS();
    const { wal } = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs });
    for (let i = 0; i < 5; i++) await wal.commitTx([{ i }]);
    await wal.sync();
    const stop = new AbortController();
    const follower = wal.follow({ signal: stop.signal });
    expect((await follower.next()).done).toBe(false);
    stop.abort();
    expect(await follower.next()).toEqual({ value: undefined, done: true });
    await wal.close();
  });

  it("followDir: next() is done, though committed transactions are queued", async () => {
    const fs = new SimFS();
    const { wal } = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs });
    for (let i = 0; i < 5; i++) await wal.commitTx([{ i }]);
    await wal.close();
    const stop = new AbortController();
    const follower = followDir<JsonValue>("/w", { codec: jsonCodec, fs, watch: false, signal: stop.signal });
    expect((await follower.next()).done).toBe(false);
    stop.abort();
    expect(await follower.next()).toEqual({ value: undefined, done: true });
  });

  it("for await: the body that aborts sees no further transaction", async () => {
    const fs = new SimFS();
    const { wal } = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs });
    for (let i = 0; i < 20; i++) await wal.commitTx([{ i }]);
    await wal.sync();
    const stop = new AbortController();
    const seen: number[] = [];
    for await (const tx of wal.follow({ signal: stop.signal })) {
      seen.push(tx.commitLsn);
      if (seen.length === 3) stop.abort();
    }
    expect(seen).toHaveLength(3);
    await wal.close();
  });
});

describe("a refused wal.follow", () => {
  it("registers no memory follower: later commits are not kept in memory for it", async () => {
    const { wal } = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs: new SimFS() });
    expect(() => wal.follow({ after: 5, restartLsn: 0 })).toThrow(
      expect.objectContaining({ code: "WAL_INVALID_OPTION" }),
    );
    const kept = vi.spyOn(RecentCommits.prototype, "add");
    try {
      for (let i = 0; i < 10; i++) await wal.commitTx([{ i }]);
      expect(kept).not.toHaveBeenCalled();
    } finally {
      kept.mockRestore();
      await wal.close();
    }
  });
});
