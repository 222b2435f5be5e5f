import { describe, expect, it } from "vitest";
import { replaceBlock, SUMMARY_END, SUMMARY_START } from "./readme-block.js";

describe("the README's summary block", () => {
  it("replaces only what lies between the markers, and nothing without them", () => {
    const text = `# x\n\n${SUMMARY_START}\nold table\n${SUMMARY_END}\n\nafter\n`;
    expect(replaceBlock(text, SUMMARY_START, SUMMARY_END, "new\ntable\n")).toBe(
      `# x\n\n${SUMMARY_START}\nnew\ntable\n${SUMMARY_END}\n\nafter\n`,
    );
    expect(replaceBlock("no markers", SUMMARY_START, SUMMARY_END, "t")).toBeUndefined();
    expect(replaceBlock(`${SUMMARY_END}\n${SUMMARY_START}`, SUMMARY_START, SUMMARY_END, "t")).toBeUndefined();
  });
});
