/**
 * A follower waiting on an idle log holds one wake-up entry, however long it waits. A waiting follower looks again
 * every second (or when its signal aborts), and each look used to leave its wake-up in the handle's list until the
 * next commit, rotation or truncation woke them all: a follower of a log nobody wrote to for a week held some 600,000
 * of them, each with its promise's resolver.
 */

import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { InProcessFeed } from "./in-process-follow.js";

const ROUNDS = 100;

describe("an in-process follower waiting on an idle log", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it(`holds one wake-up after ${ROUNDS} looks that found nothing new`, async () => {
    const fs = SimFS.withDir("/w");
    const feed = new InProcessFeed<JsonValue>("/w", fs, jsonCodec, { syncedLsn: 0, writtenLsn: 0 }, () => 0, 1);
    const follower = feed.follow({});
    const next = follower.next();
    for (let i = 0; i < ROUNDS; i++) await vi.advanceTimersToNextTimerAsync();
    expect(feed.waiting).toBe(1);
    // The one it holds still wakes it: the handle ends, the follower is done.
    feed.end();
    expect(feed.waiting).toBe(0);
    await expect(next).resolves.toEqual({ value: undefined, done: true });
  });

  it(`holds none after ${ROUNDS} followers were stopped while waiting`, async () => {
    const fs = SimFS.withDir("/w");
    const feed = new InProcessFeed<JsonValue>("/w", fs, jsonCodec, { syncedLsn: 0, writtenLsn: 0 }, () => 0, 1);
    for (let i = 0; i < ROUNDS; i++) {
      const stop = new AbortController();
      const follower = feed.follow({ signal: stop.signal });
      const next = follower.next();
      await vi.advanceTimersByTimeAsync(0);
      expect(feed.waiting).toBe(1);
      stop.abort();
      await expect(next).resolves.toEqual({ value: undefined, done: true });
    }
    expect(feed.waiting).toBe(0);
  });
});
