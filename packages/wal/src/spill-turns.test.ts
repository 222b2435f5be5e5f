import { describe, expect, it } from "vitest";
import { SPILL_TURN_STEP_BYTES, SpillTurns } from "./spill-turns.js";

const PENDING = 600 * 1024;

/** Let one turn of the event loop pass (the turns run in its check phase). */
const aTurn = () => new Promise((resolve) => setImmediate(resolve));

describe("SpillTurns", () => {
  it("gives one turn at a time: while one is due, appends resolve at once, whatever they buffered", async () => {
    const turns = new SpillTurns();
    let spills = 0;
    const spill = () => {
      spills++;
    };
    const first = turns.turn(1, PENDING, 0, spill);
    expect(first).toBeInstanceOf(Promise);
    // Two steps further, but a turn is already on its way.
    expect(turns.turn(2, PENDING + 2 * SPILL_TURN_STEP_BYTES, 0, spill)).toBeUndefined();
    expect(spills).toBe(0);
    await expect(first).resolves.toBe(1);
    expect(spills).toBe(1);
  });

  it("in the same hold-back, takes the next turn a step further on; a new hold-back takes one at once", async () => {
    const turns = new SpillTurns();
    const spill = () => undefined;
    await turns.turn(1, PENDING, 0, spill);
    expect(turns.turn(2, PENDING + SPILL_TURN_STEP_BYTES - 1, 0, spill)).toBeUndefined();
    const stepped = turns.turn(3, PENDING + SPILL_TURN_STEP_BYTES, 0, spill);
    expect(stepped).toBeInstanceOf(Promise);
    await stepped;
    // The writer wrote since (a spill went out): this hold-back is a new one, even with less buffered.
    const fresh = turns.turn(4, PENDING, 4096, spill);
    expect(fresh).toBeInstanceOf(Promise);
    await fresh;
    await aTurn();
  });

  it("rejects the turn's append with what the spill throws", async () => {
    const turns = new SpillTurns();
    const failure = new Error("write failed");
    await expect(
      turns.turn(1, PENDING, 0, () => {
        throw failure;
      }),
    ).rejects.toBe(failure);
    // The failed turn is over: another can be taken.
    expect(turns.turn(2, PENDING + SPILL_TURN_STEP_BYTES, 0, () => undefined)).toBeInstanceOf(Promise);
    await aTurn();
  });
});
