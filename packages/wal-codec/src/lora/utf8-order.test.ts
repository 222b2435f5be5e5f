import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { isWellFormed } from "./test-support/lw1-arbitraries.js";
import { compareUtf8, sortedKeys } from "./utf8-order.js";

const wellFormed = fc.string({ unit: "binary", maxLength: 8 }).filter(isWellFormed);

describe("compareUtf8", () => {
  test.prop([wellFormed, wellFormed])("agrees in sign with a byte comparison of the UTF-8", (a, b) => {
    expect(Math.sign(compareUtf8(a, b))).toBe(Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b))));
  });

  it("puts astral characters after U+E000–U+FFFF, unlike the default sort", () => {
    const keys = ["\u{10000}", "\uFFFF", "\uE000", "\uD7FF"];
    expect([...keys].sort(compareUtf8)).toEqual(["\uD7FF", "\uE000", "\uFFFF", "\u{10000}"]);
    expect([...keys].sort()).toEqual(["\uD7FF", "\u{10000}", "\uE000", "\uFFFF"]);
  });

  it("sortedKeys returns own enumerable keys in UTF-8 order", () => {
    expect(sortedKeys({ b: 1, a: 2, "\u{1F600}": 3, "\uFFFD": 4, 10: 5, 9: 6 })).toEqual([
      "10",
      "9",
      "a",
      "b",
      "\uFFFD",
      "\u{1F600}",
    ]);
  });
});
