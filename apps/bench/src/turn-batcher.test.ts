import { describe, expect, it } from "vitest";
import { TurnBatcher } from "./turn-batcher.js";

describe("TurnBatcher", () => {
  it("commits the writes of one event-loop turn as one batch and answers each writer after it", async () => {
    const batches: number[][] = [];
    const b = new TurnBatcher<number>((items) => void batches.push([...items]));
    await Promise.all([b.write(1), b.write(2), b.write(3)]);
    await b.write(4);
    expect(batches).toEqual([[1, 2, 3], [4]]);
  });

  it("keeps one asynchronous batch in flight; writes asked for meanwhile form the next one", async () => {
    const batches: number[][] = [];
    let release: () => void = () => undefined;
    const b = new TurnBatcher<number>(async (items) => {
      batches.push([...items]);
      if (batches.length === 1) await new Promise<void>((r) => (release = r));
    });
    const first = b.write(1);
    await new Promise((r) => setImmediate(r));
    const later = [b.write(2), b.write(3)];
    await new Promise((r) => setImmediate(r));
    expect(batches).toEqual([[1]]);
    release();
    await Promise.all([first, ...later]);
    expect(batches).toEqual([[1], [2, 3]]);
  });

  it("a failed batch rejects every writer in it", async () => {
    const b = new TurnBatcher<number>(() => {
      throw new Error("disk");
    });
    await expect(Promise.all([b.write(1), b.write(2)])).rejects.toThrow("disk");
  });
});
