import { describe, expect, it } from "vitest";
import { checkRetryBudgetMs } from "./retry-budget.js";

describe("checkRetryBudgetMs", () => {
  it("accepts finite numbers >= 0, fractions included", () => {
    for (const ok of [0, 0.5, 100, 1e9]) expect(() => checkRetryBudgetMs(ok)).not.toThrow();
  });

  it("refuses anything else with WAL_INVALID_OPTION, naming the option as given", () => {
    for (const bad of [-1, -0.001, Number.NaN, Number.POSITIVE_INFINITY, "5", null, undefined, 5n]) {
      expect(() => checkRetryBudgetMs(bad, "lockRetryMs")).toThrow(
        expect.objectContaining({ code: "WAL_INVALID_OPTION", message: expect.stringMatching(/^lockRetryMs must/) }),
      );
    }
    expect(() => checkRetryBudgetMs(-1)).toThrow(/^retryBudgetMs must be a finite number >= 0, got -1$/);
  });
});
