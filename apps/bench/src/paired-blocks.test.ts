import { describe, expect, it } from "vitest";
import { pairedBlocks } from "./paired-blocks.js";

describe("pairedBlocks", () => {
  it("puts each condition beside a base block, alternating which comes first and rotating the pairs", () => {
    const shown = [...pairedBlocks(["a", "b", "c"], 3)].map((b) => `${b.cycle}:${b.pair}:${b.condition}`);
    expect(shown).toEqual([
      "0:a:base",
      "0:a:a",
      "0:b:base",
      "0:b:b",
      "0:c:base",
      "0:c:c",
      "1:b:b",
      "1:b:base",
      "1:c:c",
      "1:c:base",
      "1:a:a",
      "1:a:base",
      "2:c:base",
      "2:c:c",
      "2:a:base",
      "2:a:a",
      "2:b:base",
      "2:b:b",
    ]);
  });

  it("runs every pair once a cycle, as one base block and one of its own", () => {
    const blocks = [...pairedBlocks(["x", "y"], 4)];
    expect(blocks).toHaveLength(4 * 2 * 2);
    for (let cycle = 0; cycle < 4; cycle++) {
      const own = blocks.filter((b) => b.cycle === cycle && b.condition !== "base").map((b) => b.pair);
      const base = blocks.filter((b) => b.cycle === cycle && b.condition === "base").map((b) => b.pair);
      expect(own.sort()).toEqual(["x", "y"]);
      expect(base.sort()).toEqual(["x", "y"]);
    }
  });
});
