/** Bad input: each case gets a coded error naming the file, and replay modifies nothing. */

import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jsonCodec } from "@lora/wal-codec";
import { encodeSegmentHeader, segmentPath } from "@lora/wal-segment";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { tx, writeSegment } from "../test/build-log.js";
import { replayDir } from "./replay.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp();
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function mkdtemp(): Promise<string> {
  const { mkdtemp: make } = await import("node:fs/promises");
  return make(join(tmpdir(), "lora-wal-bad-"));
}

/** A fingerprint of every file (name, size, content hash) in a directory. */
async function fingerprint(path: string): Promise<string> {
  const names = (await readdir(path)).sort();
  const parts = [];
  for (const name of names) {
    const bytes = await readFile(join(path, name));
    parts.push(`${name}:${bytes.byteLength}:${createHash("sha256").update(bytes).digest("hex")}`);
  }
  return parts.join("\n");
}

async function expectRefused(code: string, file: string) {
  const before = await fingerprint(dir);
  const error = await replayDir(dir, { codec: jsonCodec })
    .outcome()
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  expect(error).toMatchObject({ code, details: { path: file } });
  expect(String((error as Error).message)).toContain(file.split("/").pop() as string);
  expect(await fingerprint(dir)).toBe(before);
}

describe("bad input", () => {
  it("a missing directory", async () => {
    const missing = join(dir, "missing");
    await expect(replayDir(missing, { codec: jsonCodec }).outcome()).rejects.toMatchObject({
      code: "WAL_IO",
      details: { errno: "ENOENT", path: missing },
    });
  });

  it("a file where the directory should be", async () => {
    const file = join(dir, "not-a-dir");
    await writeFile(file, "x");
    await expect(replayDir(file, { codec: jsonCodec }).outcome()).rejects.toMatchObject({
      code: "WAL_IO",
      details: { errno: "ENOTDIR", path: file },
    });
  });

  it("an older segment shorter than its header", async () => {
    const short = segmentPath(dir, 1);
    await writeFile(short, new Uint8Array(12).fill(1));
    await writeSegment(dir, 2, 1, tx(1, ["a"]));
    await expectRefused("WAL_BAD_HEADER", short);
  });

  it("a foreign file named like a segment", async () => {
    await writeSegment(dir, 1, 1, tx(1, ["a"]), { sealed: true });
    const foreign = segmentPath(dir, 2);
    await writeFile(foreign, "this is not a WAL segment, just text that happens to have the name of one\n");
    await expectRefused("WAL_BAD_HEADER", foreign);
  });

  it("a header with a future format version", async () => {
    const path = await writeSegment(dir, 1, 1, tx(1, ["a"]));
    const bytes = await readFile(path);
    const header = encodeSegmentHeader({ baseLsn: 1, sealed: false });
    header.set(bytes.subarray(0, 8), 0);
    new DataView(header.buffer).setUint32(8, 2, true);
    const { crc32 } = await import("@lora/wal-codec");
    new DataView(header.buffer).setUint32(28, crc32(header.subarray(0, 28)), true);
    bytes.set(header, 0);
    await writeFile(path, bytes);
    await expectRefused("WAL_BAD_HEADER", path);
    await expect(replayDir(dir, { codec: jsonCodec }).outcome()).rejects.toThrow(/unsupported format version/);
  });

  it("a directory named like a segment is refused, not skipped", async () => {
    await writeSegment(dir, 1, 1, tx(1, ["a"]), { sealed: true });
    const odd = segmentPath(dir, 2);
    await mkdir(odd);
    const error = await replayDir(dir, { codec: jsonCodec })
      .outcome()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toMatchObject({ code: "WAL_IO" });
    expect((await stat(odd)).isDirectory()).toBe(true);
  });
});
