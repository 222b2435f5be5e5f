import { ByteWriter, bytesCodec, encodeCommitTxInto, jsonCodec, type PayloadCodec } from "@lora/wal-codec";
import { describe, expect, it } from "vitest";
import { RecentCommits } from "./recent-commits.js";

/** The bytes `commitTx` appends for `events` at `begin`. */
function encoded<E>(begin: number, events: E[], codec: PayloadCodec<E>): Uint8Array {
  const out = new ByteWriter(64);
  encodeCommitTxInto(begin, events, codec, out);
  return out.copy();
}

/** A range with nothing appended beyond the window. */
function r(upTo: number, after: number, appendedLsn = 0) {
  return { upTo, after, appendedLsn };
}

function window(begins: number[]): RecentCommits {
  const recent = new RecentCommits();
  for (const b of begins) recent.add(b, encoded(b, [{ b }], jsonCodec));
  return recent;
}

describe("RecentCommits", () => {
  it("hands out the transactions after the run's start or any of its commits, decoded, in order", () => {
    const recent = window([10, 13, 16]);
    const all = recent.after(9, r(1_000, 0), 100, jsonCodec);
    expect(all?.map((t) => [t.beginLsn, t.commitLsn, t.events])).toEqual([
      [10, 12, [{ b: 10 }]],
      [13, 15, [{ b: 13 }]],
      [16, 18, [{ b: 16 }]],
    ]);
    expect(recent.after(12, r(1_000, 0), 100, jsonCodec)?.map((t) => t.beginLsn)).toEqual([13, 16]);
    expect(recent.after(18, r(1_000, 0), 100, jsonCodec)).toEqual([]);
  });

  it("cannot vouch for a position that is not a commit of the run, or lies outside it", () => {
    const recent = window([10, 13]);
    for (const position of [0, 8, 10, 11, 13, 14, 16, 19, 21]) {
      expect(recent.after(position, r(1_000, 0), 100, jsonCodec), `position ${position}`).toBeNull();
    }
    expect(new RecentCommits().after(0, r(1_000, 0), 100, jsonCodec)).toBeNull();
  });

  it("at the run's end, cannot vouch when the log goes on beyond it (a record memory does not hold)", () => {
    const recent = window([10, 13]);
    expect(recent.after(15, r(1_000, 0, 15), 100, jsonCodec)).toEqual([]);
    expect(recent.after(15, r(1_000, 0, 16), 100, jsonCodec)).toBeNull();
    // Before the end it still hands out what it holds; the caller comes back at the end and reads the file then.
    expect(recent.after(12, r(1_000, 0, 16), 100, jsonCodec)?.map((t) => t.beginLsn)).toEqual([13]);
  });

  it("stops at upTo (what is deliverable), honours max, and skips transactions begun at or below after", () => {
    const recent = window([10, 13, 16, 19]);
    expect(recent.after(9, r(15, 0), 100, jsonCodec)?.map((t) => t.commitLsn)).toEqual([12, 15]);
    expect(recent.after(9, r(17, 0), 100, jsonCodec)?.map((t) => t.commitLsn)).toEqual([12, 15]);
    expect(recent.after(9, r(1_000, 0), 2, jsonCodec)?.map((t) => t.commitLsn)).toEqual([12, 15]);
    expect(recent.after(9, r(1_000, 13), 100, jsonCodec)?.map((t) => t.commitLsn)).toEqual([18, 21]);
  });

  it("starts a new run when a transaction does not continue the last one (records between them)", () => {
    const recent = window([10, 13]);
    recent.add(17, encoded(17, [{ b: 17 }], jsonCodec)); // LSN 16 went to something else
    expect(recent.size).toBe(1);
    expect(recent.after(12, r(1_000, 0), 100, jsonCodec)).toBeNull();
    expect(recent.after(16, r(1_000, 0), 100, jsonCodec)?.map((t) => t.beginLsn)).toEqual([17]);
    recent.clear();
    expect(recent.after(19, r(1_000, 0), 100, jsonCodec)).toBeNull();
  });

  it("is bounded: the oldest entries go, and a position behind them must read the file", () => {
    const recent = new RecentCommits();
    const big = new Uint8Array(600 * 1024);
    for (let i = 0; i < 10; i++) recent.add(1 + 3 * i, encoded(1 + 3 * i, [big], bytesCodec));
    expect(recent.size).toBeLessThan(10);
    expect(recent.size).toBeGreaterThan(0);
    expect(recent.after(0, r(1_000, 0), 100, bytesCodec)).toBeNull();
    expect(recent.after(27, r(1_000, 0), 100, bytesCodec)?.map((t) => t.beginLsn)).toEqual([28]);
    expect(recent.after(30, r(1_000, 0), 100, bytesCodec)).toEqual([]);
    // Many small ones: bounded by count, and the window keeps working after compaction.
    const many = new RecentCommits();
    for (let i = 0; i < 20_000; i++) many.add(1 + 3 * i, encoded(1 + 3 * i, [i], jsonCodec));
    expect(many.size).toBe(4096);
    const last = 1 + 3 * 19_999;
    expect(many.after(last - 1, r(1e9, 0), 10, jsonCodec)?.map((t) => t.events)).toEqual([[19_999]]);
  });

  it("delivers what was encoded, not what the caller's buffer holds later", () => {
    const recent = new RecentCommits();
    const event = new Uint8Array([1, 2, 3]);
    const bytes = encoded(5, [event], bytesCodec);
    recent.add(5, bytes);
    event[0] = 9;
    // The handle passes a view of its pending buffer, which the next append overwrites: the window keeps a copy.
    bytes.fill(0);
    const [first] = recent.after(4, r(100, 0), 10, bytesCodec) ?? [];
    expect(first?.events).toEqual([new Uint8Array([1, 2, 3])]);
    // Two followers do not share the decoded bytes either.
    const [again] = recent.after(4, r(100, 0), 10, bytesCodec) ?? [];
    (first?.events[0] as Uint8Array)[1] = 7;
    expect(again?.events).toEqual([new Uint8Array([1, 2, 3])]);
  });

  it("keeps its own copy of a transaction too large to share a slab", () => {
    const recent = new RecentCommits();
    const event = new Uint8Array(100 * 1024).fill(5);
    const bytes = encoded(5, [event], bytesCodec);
    recent.add(5, bytes);
    bytes.fill(0); // the handle's pending buffer, overwritten by the next append
    const [first] = recent.after(4, r(100, 0), 10, bytesCodec) ?? [];
    expect(first?.events).toEqual([new Uint8Array(100 * 1024).fill(5)]);
  });
});
