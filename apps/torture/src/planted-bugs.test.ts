/**
 * The planted-bug verdict (planted-bugs.ts) itself: a "bug" that changes nothing must not be reported caught, or
 * "every planted bug caught" would say nothing about the harness.
 */

import type { PlantedBug } from "@lora/wal/testing";
import { describe, expect, it } from "vitest";
import { runPlantedBug } from "./planted-bugs.js";

describe("the planted-bug verdict", () => {
  it("a planted bug the handle does not know (so changes nothing) is not caught, and no tier is named", async () => {
    const verdict = await runPlantedBug("no-such-bug" as PlantedBug, 1);
    expect(verdict).toMatchObject({ caught: false, tier: null, example: null });
  });
});
