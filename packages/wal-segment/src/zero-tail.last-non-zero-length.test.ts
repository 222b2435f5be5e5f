/**
 * `lastNonZero(bytes, length)` is exported, and a `length` past `bytes.length` made it read behind the view: its
 * word loop runs over `bytes.buffer`, so a subarray of zeros inside a larger buffer answered with the index of a
 * byte of that buffer past the subarray's end. The length is clamped to the view (and a negative one to 0).
 */

import { expect, it } from "vitest";
import { lastNonZero } from "./zero-tail.js";

it("lastNonZero never reads past the view it is given, whatever the length asked", () => {
  const buffer = new Uint8Array(64).fill(9);
  for (let at = 0; at < 8; at++) {
    for (let length = 0; length <= 16; length++) {
      const view = buffer.subarray(at, at + length);
      view.fill(0);
      // The view is all zeros; the bytes around it are 9s.
      expect([length, length + 1, length + 13, 1000].map((asked) => lastNonZero(view, asked))).toEqual([
        -1, -1, -1, -1,
      ]);
      view[0] = length === 0 ? 0 : 5;
      const last = length === 0 ? -1 : 0;
      expect([length, length + 7, Number.MAX_SAFE_INTEGER].map((asked) => lastNonZero(view, asked))).toEqual([
        last,
        last,
        last,
      ]);
      buffer.fill(9);
    }
  }
  expect(lastNonZero(new Uint8Array([1, 2]), -3)).toBe(-1);
});
