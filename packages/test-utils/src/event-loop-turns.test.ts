import { describe, expect, it } from "vitest";
import { eventLoopTurnsDuring, settlesWithinTurns } from "./event-loop-turns.js";

describe("eventLoopTurnsDuring", () => {
  it("counts no turn for work that ends before giving the loop back, and several for work that yields", async () => {
    // A computation in a microtask: it ends before the loop takes another turn, however long it takes.
    const blocking = Promise.resolve().then(() => {
      let sum = 0;
      for (let i = 0; i < 1_000_000; i++) sum += i;
      return sum;
    });
    expect((await eventLoopTurnsDuring(blocking)).turns).toBe(0);
    const yielding = (async () => {
      for (let i = 0; i < 4; i++) await new Promise((r) => setImmediate(r));
    })();
    expect((await eventLoopTurnsDuring(yielding)).turns).toBeGreaterThanOrEqual(3);
  });

  it("reports a rejection instead of throwing it", async () => {
    const failure = new Error("no");
    expect(await eventLoopTurnsDuring(Promise.reject(failure))).toEqual({ turns: 0, rejected: failure });
  });
});

describe("settlesWithinTurns", () => {
  it("answers true for work that settles within the turns, false for work that never settles", async () => {
    expect(await settlesWithinTurns(Promise.resolve(1), 0)).toBe(false); // not even a microtask ran yet
    expect(await settlesWithinTurns(Promise.resolve(1), 1)).toBe(true);
    expect(await settlesWithinTurns(Promise.reject(new Error("no")), 1)).toBe(true);
    const afterThree = (async () => {
      for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
    })();
    expect(await settlesWithinTurns(afterThree, 10)).toBe(true);
    expect(await settlesWithinTurns(new Promise(() => undefined), 50)).toBe(false);
  });
});
