/**
 * A follower of a writer that publishes no mark looks, at each wake-up that finds nothing new, whether the segment
 * it reads is still the file at its path (a restarted writer's `point-in-time` recovery may have moved it aside), and
 * again when it moves on to the next segment and after each self-sync. On a normal live log the answer must always
 * be yes: a wrong no resets the follower, which drops what it read ahead and opens the segment again.
 *
 * Observed from outside: every segment the follower reads is opened for reading once (a reader's open measures the
 * file's size and the file is never fdatasynced through that handle; the follower's self-syncs open the file
 * otherwise; its path checks stat the path where the seam reports file identities, and open it where it does not).
 * The writer commits at some wake-ups and not at others, across many rotations. On a testing clock (fake timers,
 * `Date` included), woken only by the follower's polling timer: bounded by a count of polls.
 */

import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { followDir } from "@lora/wal-replay";
import type { WalFile } from "@lora/wal-segment";
import { boundProperty, SimFS, wrapFileSystem } from "@lora/wal-segment/testing";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Wal } from "./wal.js";

const DIR = "/w";
const POLLS = 400;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe.each([
  ["a seam that reports file identities (SimFS)", true],
  ["a seam without file identity", false],
])("on %s", (_name, identities) => {
  it(`a follower of a live mark-less log never resets over ${POLLS} polls: each segment is opened to be read once`, async () => {
    const sim = SimFS.withDir(DIR);
    const { wal } = await Wal.open<JsonValue>(DIR, {
      fs: sim,
      codec: jsonCodec,
      syncMode: "none",
      publishDurableLsn: false,
      segmentTargetBytes: 600,
    });

    // Per segment path, the handles opened for reading that measured the size and were never fdatasynced: readers.
    const handles: { path: string; sized: boolean; synced: boolean }[] = [];
    // And the stats of segment paths: how a follower looks at a path on a seam that reports file identities.
    let segmentStats = 0;
    const fs = wrapFileSystem(
      sim,
      (file: WalFile, mode) => {
        if (mode !== "read" || !/\.wal$/.test(file.path)) return file;
        const seen = { path: file.path, sized: false, synced: false };
        handles.push(seen);
        return new Proxy(file, {
          get(target, key) {
            if (key === "identity" && !identities) return undefined;
            if (key === "size" || key === "sizeSync") seen.sized = true;
            if (key === "datasync" || key === "sync") seen.synced = true;
            return boundProperty(target, key);
          },
        });
      },
      {
        stat: async (path: string) => {
          if (/\.wal$/.test(path)) segmentStats++;
          const found = await sim.stat(path);
          return identities || found === null
            ? found
            : { size: found.size, isFile: found.isFile, isDirectory: found.isDirectory };
        },
      },
    );

    const stop = new AbortController();
    const follower = followDir<JsonValue>(DIR, { fs, codec: jsonCodec, signal: stop.signal, selfSyncAfterMs: 0 });
    const delivered: JsonValue[] = [];
    const consuming = (async () => {
      for await (const tx of follower) delivered.push(...tx.events);
    })();

    let committed = 0;
    for (let poll = 0; poll < POLLS; poll++) {
      // Two wake-ups in three find a commit; the third finds nothing new.
      if (poll % 3 !== 2) await wal.commitTx([`t${committed++}`]);
      await vi.advanceTimersToNextTimerAsync();
    }
    for (let poll = 0; poll < 10 && delivered.length < committed; poll++) await vi.advanceTimersToNextTimerAsync();
    stop.abort();
    await consuming;
    await wal.close();

    expect(delivered).toEqual(Array.from({ length: committed }, (_, i) => `t${i}`));
    const segments = wal.activeSegmentId();
    expect(segments).toBeGreaterThan(20);
    const readers = new Map<string, number>();
    for (const h of handles) if (h.sized && !h.synced) readers.set(h.path, (readers.get(h.path) ?? 0) + 1);
    expect(readers.size).toBe(segments);
    expect([...readers.values()].every((n) => n === 1)).toBe(true);
    // The path was looked at at every wake-up that found nothing new at least: by a stat where the seam reports file
    // identities, never by opening it (the few handles opened and neither measured nor synced then are the start's);
    // else by opening it (a handle neither measured nor synced).
    const lookedAt = handles.filter((h) => !h.sized && !h.synced).length;
    if (identities) {
      expect(segmentStats).toBeGreaterThan(POLLS / 3);
      expect(lookedAt).toBeLessThan(10);
    } else {
      expect(lookedAt).toBeGreaterThan(POLLS / 3);
    }
  });
});
