import { describe, expect, it } from "vitest";
import { canRestartFrom } from "./index.js";

describe("canRestartFrom", () => {
  it("holds from the one LSN below the log's start up, and not below it", () => {
    for (const oldest of [2, 5, 61, Number.MAX_SAFE_INTEGER]) {
      expect(canRestartFrom(oldest + 3, oldest)).toBe(true);
      expect(canRestartFrom(oldest, oldest)).toBe(true);
      expect(canRestartFrom(oldest - 1, oldest)).toBe(true); // the lone missing LSN
      expect(canRestartFrom(oldest - 2, oldest)).toBe(false);
    }
    expect(canRestartFrom(1, 1)).toBe(true);
    expect(canRestartFrom(0, 1)).toBe(true);
  });
});
