/**
 * The package's exported entry points that take a file system, a path or an LSN refuse a wrong one of every kind
 * (`hostileValues`) with `WAL_INVALID_ARGUMENT` or `WAL_INVALID_OPTION` before touching the disk: not Node's
 * `TypeError` for a path that is not a string, nor `fs.readdir is not a function`, nor a proxy trap's own error.
 */

import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { hostileValues, makeTempDir } from "@lora/test-utils";
import { isWalError } from "@lora/wal-codec";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createNodeFileSystem } from "./fs/node-file-system.js";
import { listSegments, segmentPath } from "./segment-name.js";
import { SegmentReader } from "./segment-reader.js";
import { SegmentWriter } from "./segment-writer.js";

const fs = createNodeFileSystem();
let tmp: Awaited<ReturnType<typeof makeTempDir>>;
beforeEach(async () => {
  tmp = await makeTempDir("segment-hostile");
  const writer = await SegmentWriter.create(fs, segmentPath(tmp.path, 1), 1);
  await writer.close();
});
afterEach(async () => {
  await tmp.cleanup();
});

function isPath(value: unknown): boolean {
  return typeof value === "string" && value !== "";
}

async function dirHashes(dir: string): Promise<string> {
  const out: string[] = [];
  for (const name of (await readdir(dir)).sort()) {
    out.push(
      `${name} ${createHash("sha256")
        .update(await readFile(join(dir, name)))
        .digest("hex")}`,
    );
  }
  return out.join("\n");
}

/** Each call with each value: accepted, or refused with one of `codes`; the directory unchanged either way. */
async function expectRefusedOrAccepted(
  calls: Record<string, (value: unknown) => unknown>,
  codes: readonly string[],
  isValid: (value: unknown) => boolean = isPath,
): Promise<void> {
  const before = await dirHashes(tmp.path);
  for (const [name, call] of Object.entries(calls)) {
    for (const [label, value] of hostileValues()) {
      // A non-empty string is a path, relative to the working directory: not called with, lest it be created.
      if (isPath(value)) continue;
      let error: unknown;
      let result: unknown;
      try {
        result = await call(value);
      } catch (e) {
        error = e;
      }
      if (error === undefined && isValid(value)) {
        await (result as { close?: () => Promise<void> } | undefined)?.close?.();
        continue;
      }
      const shown = isWalError(error) ? error.code : error instanceof Error ? `${error.name}: ${error.message}` : "ok";
      expect.soft(codes, `${name} with ${label}: ${shown}`).toContain(isWalError(error) ? error.code : shown);
    }
  }
  expect(await dirHashes(tmp.path)).toBe(before);
}

describe("listSegments, SegmentReader.open and SegmentWriter's factories with wrong arguments", () => {
  it("refuse a file system, a path or options that are not one with a code", async () => {
    const path = segmentPath(tmp.path, 1);
    const other = join(tmp.path, "0000000009.wal");
    await expectRefusedOrAccepted(
      {
        "listSegments(fs)": (v) => listSegments(v as never, tmp.path),
        "listSegments(fs, dir)": (v) => listSegments(fs, v as string),
        "SegmentReader.open(fs)": (v) => SegmentReader.open(v as never, path),
        "SegmentReader.open(fs, path)": (v) => SegmentReader.open(fs, v as string),
        "SegmentWriter.create(fs)": (v) => SegmentWriter.create(v as never, other, 1),
        "SegmentWriter.create(fs, path)": (v) => SegmentWriter.create(fs, v as string, 1),
        "SegmentWriter.openForAppend(fs)": (v) => SegmentWriter.openForAppend(v as never, path, 32),
        "SegmentWriter.openForAppend(fs, path)": (v) => SegmentWriter.openForAppend(fs, v as string, 32),
      },
      ["WAL_INVALID_ARGUMENT"],
    );
    // The base LSN is checked as the header is encoded.
    await expectRefusedOrAccepted(
      { "SegmentWriter.create(fs, path, baseLsn)": (v) => SegmentWriter.create(fs, other, v as number) },
      ["WAL_ENCODE"],
    );
  });

  it("listSegments refuses options, and a restoreLeftovers, that are not one with WAL_INVALID_OPTION", async () => {
    await expectRefusedOrAccepted(
      {
        "listSegments(fs, dir, options)": (v) => listSegments(fs, tmp.path, v as never),
        "listSegments(fs, dir, { restoreLeftovers })": (v) =>
          listSegments(fs, tmp.path, { restoreLeftovers: v as "ignore" }),
      },
      ["WAL_INVALID_OPTION"],
      (v) => v === undefined || (typeof v === "object" && v !== null && Object.keys(v).length === 0),
    );
    await expect(listSegments(fs, tmp.path, { restoreLeftovers: "ignore" })).resolves.toHaveLength(1);
  });
});
