import { expect, it } from "vitest";
import { DURABLE_TIMES_KEPT, DurableTimes } from "./durable-times.js";

it(`never holds more than ${DURABLE_TIMES_KEPT} entries, after any add`, () => {
  const times = new DurableTimes();
  let most = 0;
  for (let lsn = 1; lsn <= 3 * DURABLE_TIMES_KEPT; lsn++) {
    times.add(lsn, lsn);
    most = Math.max(most, times.size);
  }
  expect(most).toBe(DURABLE_TIMES_KEPT);
  // Merged, the oldest LSN not archived still reads its own time or an earlier one, never a later one.
  expect(times.oldestAbove(0)).toBe(1);
});
