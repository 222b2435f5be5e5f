/** `inspect`'s lock line says "free" only when the probe said so of a regular lock file. */

import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { WalError } from "@lora/wal-codec";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { inspectDir } from "../src/index.js";
import { fingerprint, runCli, type TempDir, useJsonWal } from "./helpers.js";

const probe = vi.hoisted(() => ({ answer: undefined as undefined | (() => Promise<string>) }));

vi.mock("@lora/wal-lock", async (importOriginal) => {
  const original = await importOriginal<typeof import("@lora/wal-lock")>();
  return {
    ...original,
    probeDirLock: (dir: string) => (probe.answer === undefined ? original.probeDirLock(dir) : probe.answer()),
  };
});

describe("inspect's lock line", () => {
  let tmp: TempDir;
  let dir: string;
  useJsonWal("lora-wal-lock-line", { transactions: 2 }, (wal) => {
    ({ tmp, dir } = wal);
  });
  beforeEach(() => {
    probe.answer = undefined;
  });

  it("is 'free' for a lock file nobody holds", async () => {
    expect((await inspectDir(dir, { codec: "json" })).lock).toBe("free");
  });

  it("is INVALID, not free, when .lora-wal.lock is a directory, and the directory is left as it is", async () => {
    await rm(join(dir, ".lora-wal.lock"));
    await mkdir(join(dir, ".lora-wal.lock"));
    const before = await fingerprint(tmp.path);
    const report = await inspectDir(dir, { codec: "json" });
    expect(report.lock).toBe("invalid");
    expect(report.lockError).toContain("is a directory");
    const result = await runCli(["inspect", dir, "--codec", "json"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/lock {7}INVALID/);
    expect(result.stdout).not.toContain("free");
    expect(await fingerprint(tmp.path)).toBe(before);
  });

  it("reports a probe's 'invalid' answer as invalid and an answer it does not know as unknown", async () => {
    probe.answer = () => Promise.resolve("invalid");
    expect(await inspectDir(dir, { codec: "json" })).toMatchObject({ lock: "invalid" });
    probe.answer = () => Promise.resolve("sideways");
    const report = await inspectDir(dir, { codec: "json" });
    expect(report).toMatchObject({ lock: "unknown", lockError: 'the lock probe answered "sideways"' });
  });

  it("reports a probe that throws as unknown, with the error, and still inspects the log", async () => {
    probe.answer = () =>
      Promise.reject(new WalError("WAL_IO", "cannot open the WAL lock file", { details: { errno: "EISDIR" } }));
    const result = await runCli(["inspect", dir, "--codec", "json"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("lock       unknown (cannot open the WAL lock file (WAL_IO))");
    expect(result.stdout).toContain("verdict    clean");
  });
});
