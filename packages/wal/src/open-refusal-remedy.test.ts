/**
 * The texts `withRemedy` adds to an open's refusal, pinned whole, and what it keeps: the code, the `details` object,
 * the `cause` and the stack frames of the damage found. Other errors pass as they are.
 */

import { WalError } from "@lora/wal-codec";
import { expect, it } from "vitest";
import { withRemedy } from "./open-refusal-remedy.js";

const DAMAGE = "WAL corruption in /w/0000000002.wal at offset 100: CRC mismatch";

function damage(code: "WAL_CORRUPT" | "WAL_TORN_TAIL", message = DAMAGE): WalError {
  return new WalError(code, message, {
    cause: new WalError("WAL_CRC_MISMATCH", "crc"),
    details: { segment: "/w/0000000002.wal", offset: 100 },
  });
}

it("corruption refused in the default and absolute modes names lora-wal verify and point-in-time", () => {
  for (const recovery of ["tolerate-torn-tail", "absolute"] as const) {
    const found = damage("WAL_CORRUPT");
    const remedied = withRemedy(found, "/w", recovery) as WalError;
    expect(remedied.message).toBe(
      `${DAMAGE}; run \`lora-wal verify /w\` to see the damage; to open the log with what precedes it (the rest is moved to .broken files), open it with recovery: "point-in-time"`,
    );
    expect(remedied.code).toBe("WAL_CORRUPT");
    expect(remedied.details).toBe(found.details);
    expect(remedied.cause).toBe(found.cause);
  }
  // The directory as a shell would take it.
  const quoted = withRemedy(damage("WAL_CORRUPT"), "/my logs/w", "absolute") as WalError;
  expect(quoted.message).toContain("run `lora-wal verify '/my logs/w'` to see the damage;");
});

it("a torn tail refused in absolute mode names the default mode that cuts it", () => {
  const found = damage("WAL_TORN_TAIL", "torn tail in /w/0000000002.wal at offset 100");
  const remedied = withRemedy(found, "/w", "absolute") as WalError;
  expect(remedied.message).toBe(
    "torn tail in /w/0000000002.wal at offset 100; a crash mid-write leaves one; open with recovery: " +
      '"tolerate-torn-tail" (the default) to cut it (a copy of the cut bytes is kept in a .broken file when the disk has room for it)',
  );
  expect(remedied.code).toBe("WAL_TORN_TAIL");
  expect(remedied.details).toBe(found.details);
  expect(remedied.cause).toBe(found.cause);
});

it("the stack shows the frames of the damage found under the new message", () => {
  const found = damage("WAL_CORRUPT");
  const remedied = withRemedy(found, "/w", "absolute") as WalError;
  const frames = (e: Error) => (e.stack ?? "").split("\n").slice(1);
  expect(remedied.stack?.split("\n")[0]).toBe(`WalError: ${remedied.message}`);
  expect(frames(remedied)).toEqual(frames(found));
});

it("other errors, and damage a mode already handles, pass as they are", () => {
  const other = new WalError("WAL_LOCKED", "held");
  expect(withRemedy(other, "/w", "absolute")).toBe(other);
  const thrown = new Error("plain");
  expect(withRemedy(thrown, "/w", "absolute")).toBe(thrown);
  const corrupt = damage("WAL_CORRUPT");
  expect(withRemedy(corrupt, "/w", "point-in-time")).toBe(corrupt);
  const torn = damage("WAL_TORN_TAIL");
  expect(withRemedy(torn, "/w", "tolerate-torn-tail")).toBe(torn);
});
