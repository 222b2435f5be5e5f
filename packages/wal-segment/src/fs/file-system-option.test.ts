import { hostileValues } from "@lora/test-utils";
import { describe, expect, it } from "vitest";
import { fileSystemOption } from "./file-system-option.js";

describe("fileSystemOption", () => {
  it("refuses every value that is not a file system, those that throw when read included, with WAL_INVALID_OPTION", () => {
    for (const [label, value] of hostileValues(["open", "mkdirp"])) {
      if (value === undefined) continue;
      let error: unknown;
      try {
        fileSystemOption(value, "Wal.open");
      } catch (e) {
        error = e;
      }
      expect(error, label).toMatchObject({ name: "WalError", code: "WAL_INVALID_OPTION" });
      expect((error as Error).message, label).toMatch(/^Wal\.open: fs[: ]/);
    }
  });
});
