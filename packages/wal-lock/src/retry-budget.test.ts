import { MAX_TIMER_MS } from "@lora/wal-codec";
import { describe, expect, it } from "vitest";
import { checkRetryBudgetMs } from "./retry-budget.js";

describe("checkRetryBudgetMs", () => {
  it("accepts numbers from 0 to 2^31 - 1, fractions included", () => {
    for (const ok of [0, 0.5, 100, 1e9, MAX_TIMER_MS - 0.5, MAX_TIMER_MS]) {
      expect(() => checkRetryBudgetMs(ok), String(ok)).not.toThrow();
    }
  });

  it("refuses a budget above 2^31 - 1 ms, as every delay option is, Infinity included: there is no waiting forever", () => {
    for (const bad of [
      MAX_TIMER_MS + 0.5,
      2 ** 31,
      Number.MAX_SAFE_INTEGER,
      Number.MAX_VALUE,
      Number.POSITIVE_INFINITY,
    ]) {
      expect(() => checkRetryBudgetMs(bad), String(bad)).toThrow(
        expect.objectContaining({ code: "WAL_INVALID_OPTION" }),
      );
    }
  });

  it("refuses anything else with WAL_INVALID_OPTION, naming the option as given", () => {
    for (const bad of [-1, -0.001, Number.NaN, Number.POSITIVE_INFINITY, "5", null, undefined, 5n]) {
      expect(() => checkRetryBudgetMs(bad, "lockRetryMs")).toThrow(
        expect.objectContaining({ code: "WAL_INVALID_OPTION", message: expect.stringMatching(/^lockRetryMs must/) }),
      );
    }
    expect(() => checkRetryBudgetMs(-1)).toThrow(/^retryBudgetMs must be a number from 0 to 2\^31 - 1, got -1$/);
    expect(() => checkRetryBudgetMs(Number.MAX_VALUE)).toThrow(
      /^retryBudgetMs must be a number from 0 to 2\^31 - 1, got 1\.7976931348623157e\+308$/,
    );
  });
});
