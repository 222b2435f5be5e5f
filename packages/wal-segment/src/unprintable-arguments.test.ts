/**
 * An option or argument with no printable form is refused with the entry point's own code like any other bad value.
 * The refusals printed the value with `String()` or a template literal, which throw a `TypeError` for a
 * null-prototype object (and a symbol, in a template) and rethrow a `toString` that throws, so the caller got an
 * uncoded error instead.
 */

import { join } from "node:path";
import { expectEachRefused as expectRefused, makeTempDir } from "@lora/test-utils";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DurableMarkWriter, encodeDurableMark } from "./durable-mark.js";
import type { OpenMode } from "./fs/file-system.js";
import { createNodeFileSystem } from "./fs/node-file-system.js";
import { readSizeOf } from "./read-size.js";
import { encodeSegmentHeader } from "./segment-header.js";
import { segmentFileName } from "./segment-name.js";
import { SegmentReader } from "./segment-reader.js";
import { SegmentWriter } from "./segment-writer.js";
import { SpareSegment } from "./spare-segment.js";
import { SimFS } from "./testing/sim-fs.js";
import { dataEndOf, isZeroRange } from "./zero-tail.js";

const SEGMENT = "/w/0000000001.wal";

describe("segment entry points refuse an unprintable value with their code", () => {
  it("SegmentWriter.create, its options and its base LSN, creating nothing", async () => {
    const fs = SimFS.withDir("/w");
    for (const option of ["maxUnsyncedBytes", "preallocateBytes", "bufferBytes"]) {
      await expectRefused("WAL_INVALID_OPTION", (v) => SegmentWriter.create(fs, SEGMENT, 1, { [option]: v }));
    }
    await expectRefused("WAL_ENCODE", (v) => SegmentWriter.create(fs, SEGMENT, v));
    expect(fs.listSync("/w")).toEqual([]);
  });

  it("SegmentWriter.openForAppend and truncateTo", async () => {
    const fs = SimFS.withDir("/w");
    const writer = await SegmentWriter.create(fs, SEGMENT, 1);
    await expectRefused("WAL_INVALID_ARGUMENT", (v) => writer.truncateTo(v));
    await writer.close();
    await expectRefused("WAL_INVALID_ARGUMENT", (v) => SegmentWriter.openForAppend(fs, SEGMENT, v));
  });

  it("SegmentReader.open and seek", async () => {
    const fs = SimFS.withDir("/w");
    await (await SegmentWriter.create(fs, SEGMENT, 1)).close();
    for (const option of ["chunkBytes", "startOffset"]) {
      await expectRefused("WAL_INVALID_OPTION", (v) => SegmentReader.open(fs, SEGMENT, { [option]: v }));
    }
    const reader = await SegmentReader.open(fs, SEGMENT);
    await expectRefused("WAL_INVALID_ARGUMENT", (v) => reader.seek(v));
    await reader.close();
  });

  it("dataEndOf and isZeroRange", async () => {
    const fs = SimFS.withDir("/w");
    await (await SegmentWriter.create(fs, SEGMENT, 1)).close();
    const file = await fs.open(SEGMENT, "read");
    await expectRefused("WAL_INVALID_ARGUMENT", (v) => dataEndOf(file, v));
    await expectRefused("WAL_INVALID_ARGUMENT", (v) => isZeroRange(file, v, 40));
    await file.close();
  });

  it("DurableMarkWriter.open, publish and encodeDurableMark", async () => {
    const fs = SimFS.withDir("/w");
    await expectRefused("WAL_ENCODE", (v) => DurableMarkWriter.open(fs, "/w", v));
    const mark = await DurableMarkWriter.open(fs, "/w", 1);
    await expectRefused("WAL_INVALID_ARGUMENT", (v) => mark.publish(v));
    await expectRefused("WAL_ENCODE", (v) =>
      encodeDurableMark({ session: 1, sessionStartLsn: 1, durableLsn: v, closed: false }),
    );
  });

  it("SpareSegment.prepare, creating nothing", async () => {
    const fs = SimFS.withDir("/w");
    await expectRefused("WAL_INVALID_ARGUMENT", (v) => SpareSegment.prepare(fs, "/w", v));
    expect(fs.listSync("/w")).toEqual([]);
  });

  it("readSizeOf, segmentFileName and encodeSegmentHeader", async () => {
    await expectRefused("WAL_INVALID_OPTION", (v) => readSizeOf(v));
    await expectRefused("WAL_INVALID_ARGUMENT", (v) => segmentFileName(v));
    await expectRefused("WAL_ENCODE", (v) => encodeSegmentHeader({ baseLsn: v, sealed: false }));
  });

  it("SimFS open, read, write and truncate", async () => {
    const fs = SimFS.withDir("/w");
    await expectRefused("WAL_INVALID_ARGUMENT", (v) => fs.open("/w/x", v as unknown as OpenMode));
    const file = await fs.open("/w/y", "createExclusive");
    await expectRefused("WAL_INVALID_ARGUMENT", (v) => file.read(new Uint8Array(4), 0, 4, v));
    await expectRefused("WAL_INVALID_ARGUMENT", (v) => file.write(new Uint8Array(4), v));
    await expectRefused("WAL_INVALID_ARGUMENT", (v) => file.truncate(v));
    await file.close();
  });
});

describe("the node file system refuses an unprintable argument with its code", () => {
  let dir: { path: string; cleanup(): Promise<void> };
  beforeEach(async () => {
    dir = await makeTempDir("lora-wal-unprintable");
  });
  afterEach(() => dir.cleanup());

  it("open, read, write and truncate", async () => {
    const fs = createNodeFileSystem();
    await expectRefused("WAL_INVALID_ARGUMENT", (v) => fs.open(join(dir.path, "x"), v as unknown as OpenMode));
    const file = await fs.open(join(dir.path, "y"), "createExclusive");
    await expectRefused("WAL_INVALID_ARGUMENT", (v) => file.read(new Uint8Array(4), v, 4, 0));
    await expectRefused("WAL_INVALID_ARGUMENT", (v) => file.write(new Uint8Array(4), v));
    await expectRefused("WAL_INVALID_ARGUMENT", (v) => file.truncate(v));
    await file.close();
  });
});
