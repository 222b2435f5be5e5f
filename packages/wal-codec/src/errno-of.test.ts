import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { errnoOf } from "./errno-of.js";
import { WalError } from "./errors.js";

/** What `node:fs` itself throws for a path that does not exist. */
function nodeEnoent(): NodeJS.ErrnoException {
  try {
    readFileSync("/nonexistent-lora-wal-errno-of/x");
  } catch (error) {
    return error as NodeJS.ErrnoException;
  }
  throw new Error("expected readFileSync to fail");
}

describe("errnoOf", () => {
  it("reads a raw Node error's code", () => {
    expect(errnoOf(nodeEnoent())).toBe("ENOENT");
    expect(errnoOf(Object.assign(new Error("pipe"), { code: "EPIPE" }))).toBe("EPIPE");
  });

  it("reads the seam's WAL_IO: details.errno, the Node error as cause", () => {
    const cause = nodeEnoent();
    const seam = new WalError("WAL_IO", "open failed", { cause, details: { errno: "ENOENT", syscall: "open" } });
    expect(errnoOf(seam)).toBe("ENOENT");
    // details.errno is what the seam promises: it wins over the cause.
    const odd = new WalError("WAL_IO", "x", { cause, details: { errno: "EIO" } });
    expect(errnoOf(odd)).toBe("EIO");
  });

  it("reads a WalError's cause code when details.errno is missing, never its own WAL_* code", () => {
    expect(errnoOf(new WalError("WAL_IO", "open failed", { cause: nodeEnoent() }))).toBe("ENOENT");
    expect(errnoOf(new WalError("WAL_IO", "refused"))).toBeUndefined();
    expect(errnoOf(new WalError("WAL_CORRUPT", "bad"))).toBeUndefined();
  });

  it("does not look through a WalError cause: a poisoned handle's error is not its first failure's errno", () => {
    const first = new WalError("WAL_IO", "fsync failed", { cause: nodeEnoent(), details: { errno: "ENOSPC" } });
    expect(errnoOf(new WalError("WAL_POISONED", "poisoned", { cause: first }))).toBeUndefined();
    expect(errnoOf(new Error("wrapped", { cause: first }))).toBeUndefined();
  });

  it("reads one level of a plain error's cause", () => {
    expect(errnoOf(new Error("wrapped", { cause: nodeEnoent() }))).toBe("ENOENT");
    expect(errnoOf(new Error("deeper", { cause: new Error("wrapped", { cause: nodeEnoent() }) }))).toBeUndefined();
  });

  it("is undefined for anything without a string code", () => {
    for (const other of [null, undefined, "ENOENT", 2, new Error("ENOENT"), { code: 2 }, { details: { errno: "X" } }])
      expect(errnoOf(other)).toBeUndefined();
  });
});
