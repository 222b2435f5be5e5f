import { expect, it } from "vitest";
import { firstNames } from "./first-names.js";

it("shows up to five names sorted, then ', ...' when there are more, leaving its argument as it was", () => {
  expect(firstNames([])).toBe("");
  expect(firstNames(["b.wal", "a.wal"])).toBe("a.wal, b.wal");
  const six = ["6", "5", "4", "3", "2", "1"];
  expect(firstNames(six)).toBe("1, 2, 3, 4, 5, ...");
  expect(firstNames(six.slice(1))).toBe("1, 2, 3, 4, 5");
  expect(six).toEqual(["6", "5", "4", "3", "2", "1"]);
});
