import { hostileValues } from "@lora/test-utils";
import { describe, expect, it } from "vitest";
import { normalizeSyncMode } from "./sync-mode.js";

describe("normalizeSyncMode", () => {
  it("refuses every wrong value, objects that throw when read included, with WAL_INVALID_OPTION", () => {
    for (const [label, value] of hostileValues(["mode", "intervalMs"])) {
      if (value === undefined) continue;
      let error: unknown;
      try {
        normalizeSyncMode(value as "group");
      } catch (e) {
        error = e;
      }
      expect(error, label).toMatchObject({ name: "WalError", code: "WAL_INVALID_OPTION" });
    }
  });

  it("refuses a group mode whose intervalMs getter throws", () => {
    const input = Object.defineProperty({ mode: "group" }, "intervalMs", {
      enumerable: true,
      get: () => {
        throw new Error("no");
      },
    });
    expect(() => normalizeSyncMode(input as never)).toThrow(expect.objectContaining({ code: "WAL_INVALID_OPTION" }));
  });
});

describe("normalizeSyncMode's object form", () => {
  it('refuses intervalMs beside "perCommit" and "none", which would read as a sync interval the mode never has', () => {
    for (const mode of ["perCommit", "none"] as const) {
      expect(() => normalizeSyncMode({ mode, intervalMs: 5 } as never)).toThrow(
        expect.objectContaining({ code: "WAL_INVALID_OPTION" }),
      );
      expect(normalizeSyncMode({ mode })).toEqual({ mode });
    }
  });
});
