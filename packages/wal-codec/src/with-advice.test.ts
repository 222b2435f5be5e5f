/**
 * `withAdvice`, the one way a layer adds what the caller can do about an error to a `WalError` it passes on: the
 * advice is appended to the message once (exactly that advice, not text that contains it), and the code, `details`, `cause` and stack frames stay the error's.
 */

import { describe, expect, it } from "vitest";
import { WalError } from "./errors.js";
import { withAdvice } from "./with-advice.js";

function found(): WalError {
  return new WalError("WAL_CORRUPT", "bad record at offset 40", {
    cause: new Error("crc"),
    details: { segment: "/w/0000000001.wal", offset: 40 },
  });
}

const frames = (e: Error) => (e.stack ?? "").split("\n").slice(1);

describe("withAdvice", () => {
  it("appends the advice as a clause, or as an aside, and keeps code, details and cause", () => {
    const error = found();
    const clause = withAdvice(error, "run lora-wal verify /w");
    expect(clause.message).toBe("bad record at offset 40; run lora-wal verify /w");
    const aside = withAdvice(error, "read with --codec lora", { as: "aside" });
    expect(aside.message).toBe("bad record at offset 40 (read with --codec lora)");
    for (const advised of [clause, aside]) {
      expect(advised).toBeInstanceOf(WalError);
      expect(advised.code).toBe("WAL_CORRUPT");
      expect(advised.details).toBe(error.details);
      expect(advised.cause).toBe(error.cause);
    }
    // The error given is not changed.
    expect(error.message).toBe("bad record at offset 40");
  });

  it("keeps an absent cause absent", () => {
    const advised = withAdvice(new WalError("WAL_LOCKED", "held"), "wait");
    expect("cause" in advised).toBe(false);
  });

  it("shows the frames of the error found under the new message", () => {
    const error = found();
    const advised = withAdvice(error, "do this");
    expect(advised.stack?.split("\n")[0]).toBe("WalError: bad record at offset 40; do this");
    expect(frames(advised)).toEqual(frames(error));
  });

  it("appends the same advice once, however often it is applied, in either form and after other advice", () => {
    const once = withAdvice(found(), "do this");
    expect(withAdvice(once, "do this")).toBe(once);
    const then = withAdvice(once, "then that");
    expect(withAdvice(then, "do this").message).toBe("bad record at offset 40; do this; then that");
    const aside = withAdvice(found(), "see this", { as: "aside" });
    expect(withAdvice(aside, "see this", { as: "aside" })).toBe(aside);
  });

  it("returns the error as it is for empty or whitespace-only advice", () => {
    const error = found();
    expect(withAdvice(error, "")).toBe(error);
    expect(withAdvice(error, "  ")).toBe(error);
    expect(withAdvice(error, " \t\n", { as: "aside" })).toBe(error);
  });

  it("adds advice that is only a prefix of advice already appended", () => {
    const error = new WalError("WAL_FENCE_TOO_LOW", "the fence 0 is below what the log holds");
    const first = withAdvice(error, "the lowest fence it can serve is 50");
    const second = withAdvice(first, "the lowest fence it can serve is 5");
    expect(second.message).toBe(
      "the fence 0 is below what the log holds; the lowest fence it can serve is 50; the lowest fence it can serve is 5",
    );
    const aside = withAdvice(withAdvice(error, "see 50", { as: "aside" }), "see 5", { as: "aside" });
    expect(aside.message).toBe("the fence 0 is below what the log holds (see 50) (see 5)");
  });

  it("adds advice that is only the end of advice already appended", () => {
    const error = found();
    const longer = withAdvice(error, "stop the writer; run lora-wal verify /w");
    expect(withAdvice(longer, "run lora-wal verify /w").message).toBe(
      "bad record at offset 40; stop the writer; run lora-wal verify /w; run lora-wal verify /w",
    );
    const aside = withAdvice(error, "see (a) and (b)", { as: "aside" });
    expect(withAdvice(aside, "b", { as: "aside" }).message).toBe("bad record at offset 40 (see (a) and (b)) (b)");
    // Advice that ends the message's own text and the advice after it, together, is not advice appended either.
    const own = new WalError("WAL_IO", "open failed; run it");
    const after = withAdvice(own, "again");
    expect(withAdvice(after, "run it; again").message).toBe("open failed; run it; again; run it; again");
    // The whole advice, appended before, still counts once, last or not.
    expect(withAdvice(longer, "stop the writer; run lora-wal verify /w")).toBe(longer);
  });

  it("adds advice whose text occurs only inside the message's own text", () => {
    const error = new WalError("WAL_IO", "fs:/a: get x failed: open failed; run it again later");
    expect(withAdvice(error, "run it again").message).toBe(
      "fs:/a: get x failed: open failed; run it again later; run it again",
    );
    // The message's own text is not advice added before, even where it reads the same, unless it ends with it.
    const middle = new WalError("WAL_IO", "open failed; run it again; then stat failed");
    expect(withAdvice(middle, "run it again").message).toBe(
      "open failed; run it again; then stat failed; run it again",
    );
    const ending = new WalError("WAL_IO", "open failed; run it again");
    expect(withAdvice(ending, "run it again")).toBe(ending);
  });
});
