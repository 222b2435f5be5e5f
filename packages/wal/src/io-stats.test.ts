import { describe, expect, it } from "vitest";
import { PipelineStats, SYNC_LATENCY_BUCKETS_MS } from "./io-stats.js";

describe("the fdatasync latency histogram", () => {
  it("counts a sample in the bucket whose bound it equals (le: at most), cumulatively, with its sum and maximum", () => {
    const stats = new PipelineStats();
    for (const ms of [0.1, 1, 3, 0.05, 2000]) stats.recordSync(ms);
    const h = stats.snapshot(0).syncLatency;
    const countAt = (le: number) => h.buckets.find((b) => b.le === le)?.count;
    expect(countAt(0.1)).toBe(2);
    expect(countAt(0.5)).toBe(2);
    expect(countAt(1)).toBe(3);
    expect(countAt(2.5)).toBe(3);
    expect(countAt(5)).toBe(4);
    expect(countAt(1000)).toBe(4);
    expect(countAt(Number.POSITIVE_INFINITY)).toBe(5);
    expect(h.buckets.map((b) => b.le)).toEqual(SYNC_LATENCY_BUCKETS_MS);
    expect(h.count).toBe(5);
    expect(h.maxMs).toBe(2000);
    expect(h.sumMs).toBeCloseTo(2004.15, 9);
  });
});
