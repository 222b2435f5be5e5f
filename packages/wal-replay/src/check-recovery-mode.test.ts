/**
 * `checkRecoveryMode`: the one check of the `recovery` option, which `replayDir`, `replaySegments` and `Wal.open`
 * share, so all three refuse a bad mode with the same code, message and details.
 */

import { describe, expect, it } from "vitest";
import { checkRecoveryMode } from "./replay-options.js";
import { RECOVERY_MODES } from "./replay-types.js";

describe("checkRecoveryMode", () => {
  it("returns the mode asked for, and tolerate-torn-tail when none is", () => {
    for (const mode of RECOVERY_MODES) expect(checkRecoveryMode(mode)).toBe(mode);
    expect(checkRecoveryMode(undefined)).toBe("tolerate-torn-tail");
  });

  it("refuses anything else with WAL_INVALID_OPTION, naming the value and every mode", () => {
    for (const [bad, shown] of [
      ["strict", '"strict"'],
      ["", '""'],
      [1, "1"],
    ] as const) {
      expect(() => checkRecoveryMode(bad), String(bad)).toThrow(
        expect.objectContaining({
          code: "WAL_INVALID_OPTION",
          message: `unknown recovery mode ${shown}: recovery is "tolerate-torn-tail", "absolute" or "point-in-time"`,
          details: { option: "recovery" },
        }),
      );
    }
  });
});
