import { DURABLE_MARK_FILE, SPARE_SEGMENT_PREFIX } from "@lora/wal-segment";
import { describe, expect, it } from "vitest";
import { MARK_FRESH_MS, WatchWakeFilter } from "./watch-wake-filter.js";

const SEGMENT = "0000000001.wal";

describe("WatchWakeFilter", () => {
  it("lets a durable-only follower sleep through appends while the writer publishes its mark", () => {
    const filter = new WatchWakeFilter(true);
    expect(filter.wakes("change", DURABLE_MARK_FILE, 1000)).toBe(true);
    expect(filter.wakes("change", SEGMENT, 1000.5)).toBe(false);
    expect(filter.wakes("change", SEGMENT, 1000 + MARK_FRESH_MS - 1)).toBe(false);
    // The mark's next rewrite wakes it, and keeps the writer counted as publishing.
    expect(filter.wakes("change", DURABLE_MARK_FILE, 1050)).toBe(true);
    expect(filter.wakes("change", SEGMENT, 1050 + MARK_FRESH_MS - 1)).toBe(false);
  });

  it("wakes for appends again once the mark has been quiet for a while, and before any mark was seen", () => {
    const filter = new WatchWakeFilter(true);
    expect(filter.wakes("change", SEGMENT, 5)).toBe(true);
    filter.wakes("change", DURABLE_MARK_FILE, 1000);
    expect(filter.wakes("change", SEGMENT, 1000 + MARK_FRESH_MS)).toBe(true);
  });

  it("always wakes for a segment created or removed, a file it does not know, and a nameless event", () => {
    const filter = new WatchWakeFilter(true);
    filter.wakes("change", DURABLE_MARK_FILE, 1000);
    expect(filter.wakes("rename", SEGMENT, 1001)).toBe(true);
    expect(filter.wakes("change", "slots", 1001)).toBe(true);
    expect(filter.wakes("change", null, 1001)).toBe(true);
    expect(filter.wakes("rename", DURABLE_MARK_FILE, 1001)).toBe(true);
  });

  it("never wakes for a spare segment's events, in either mode (its rename is reported under the segment's name)", () => {
    for (const durableOnly of [true, false]) {
      const filter = new WatchWakeFilter(durableOnly);
      const spare = `${SPARE_SEGMENT_PREFIX}0a1b2c3d4e5f`;
      expect(filter.wakes("rename", spare, 1)).toBe(false);
      expect(filter.wakes("change", spare, 2)).toBe(false);
      expect(filter.wakes("rename", "0000000002.wal", 3)).toBe(true);
    }
  });

  it("counts the mark as fresh for no longer than the follower's selfSyncAfterMs", () => {
    const filter = new WatchWakeFilter(true, 20);
    filter.wakes("change", DURABLE_MARK_FILE, 1000);
    expect(filter.wakes("change", SEGMENT, 1019)).toBe(false);
    expect(filter.wakes("change", SEGMENT, 1020)).toBe(true);
  });

  it("wakes a follower of written records for every append", () => {
    const filter = new WatchWakeFilter(false);
    filter.wakes("change", DURABLE_MARK_FILE, 1000);
    expect(filter.wakes("change", SEGMENT, 1001)).toBe(true);
  });
});
