/**
 * Issue 12: the same directory given to `Wal.open`, `replayDir` and every `lora-wal` command gets one
 * classification. One test per disagreement the CLI's own copy of the damage rules had; each failed before the
 * rules were shared.
 */

import { appendFile, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Wal } from "@lora/wal";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { RECOVERY_MODES } from "@lora/wal-replay";
import { segmentFileName } from "@lora/wal-segment";
import { describe, expect, it } from "vitest";
import { cliExitCodes, cliOutcomes, openOutcome, replayOutcome, sealHeader } from "./agreement.js";
import { fingerprint, runCli, segmentFiles, useJsonWal, writeJsonWal } from "./helpers.js";

describe("Wal.open, replay and the CLI agree", () => {
  let dir: string;
  useJsonWal("lora-wal-agree", {}, (wal) => {
    dir = wal.dir;
  });

  it("(a) a newest segment of 4 KiB of zeros is headerless everywhere, and open recreates it", async () => {
    await writeJsonWal(dir, 20, 1024);
    const segments = await segmentFiles(dir);
    const newest = join(dir, segments.at(-1) as string);
    // A crash after sealing the newest segment, while its successor was being created (preallocated, no header).
    await sealHeader(newest);
    const successor = segmentFileName(segments.length + 1);
    await writeFile(join(dir, successor), new Uint8Array(4096));

    expect(await cliOutcomes(dir, "json")).toEqual({
      walk: "headerless",
      dump: "headerless",
      stat: "headerless",
      inspect: "headerless",
      verify: "headerless",
    });
    expect(await cliExitCodes(dir, "json")).toEqual({ inspect: 1, verify: 1, dump: 1, stat: 1 });
    const inspect = await runCli(["inspect", dir, "--codec", "json"]);
    expect(inspect.stdout).toContain("no header (4096 bytes; removed on open)");
    expect(inspect.stdout).toContain("NO HEADER in");
    expect(inspect.stdout).toContain("4096 bytes, all zeros");
    expect(await replayOutcome(dir, "json")).toBe("headerless");
    expect(await replayOutcome(dir, "json", "absolute")).toBe("headerless");

    const { wal, events, healed } = await Wal.open<JsonValue>(dir, { codec: jsonCodec });
    expect(events).toHaveLength(40);
    expect(healed.map((h) => h.kind)).toEqual(["headerlessSegmentRemoved", "sealedSegmentSucceeded"]);
    await wal.commitTx(["after"]);
    await wal.close();
    expect(await cliOutcomes(dir, "json")).toMatchObject({ walk: "clean", verify: "clean" });
    expect((await readFile(join(dir, successor))).byteLength).toBeGreaterThan(32);
  });

  it("(b) damage at the end of a sealed newest segment is corruption everywhere, never a torn tail", async () => {
    await writeJsonWal(dir, 20, 1024);
    const newest = join(dir, (await segmentFiles(dir)).at(-1) as string);
    await sealHeader(newest);
    const size = (await readFile(newest)).byteLength;
    // What a torn write would look like, in a segment that was fsynced before it was sealed.
    await appendFile(newest, Buffer.from([80, 0, 0, 0, 6, 16, 0]));

    expect(await cliOutcomes(dir, "json")).toEqual({
      walk: "corruption",
      dump: "corruption",
      stat: "corruption",
      inspect: "corruption",
      verify: "corruption",
    });
    expect(await cliExitCodes(dir, "json")).toEqual({ inspect: 2, verify: 2, dump: 2, stat: 2 });
    const inspect = await runCli(["inspect", dir, "--codec", "json"]);
    expect(inspect.stdout).toContain(`CORRUPT at offset ${size}`);
    expect(inspect.stdout).toContain("damage in a sealed segment");
    expect(await replayOutcome(dir, "json")).toBe("corruption");
    expect(await replayOutcome(dir, "json", "point-in-time")).toBe("corruption");
    const before = await fingerprint(dir);
    expect(await openOutcome(dir, "json")).toBe("corruption");
    expect(await fingerprint(dir)).toBe(before);
  });

  it("(c) a JSON log opened without its codec: WAL_CODEC_MISMATCH in every mode, nothing in the directory changes", async () => {
    await writeJsonWal(dir, 20, 1024);
    const before = await fingerprint(dir);

    for (const mode of RECOVERY_MODES) {
      const error = await Wal.open(dir, { recovery: mode }).then(
        async ({ wal }) => {
          await wal.close();
          return undefined;
        },
        (e: unknown) => e,
      );
      expect(error, mode).toMatchObject({ code: "WAL_CODEC_MISMATCH", details: { offset: 57, lsn: 2 } });
      expect((error as Error).message).toContain('does not decode with codec "lora"');
      expect((error as Error).message).toContain("open it with the codec it was written with");
      expect(await fingerprint(dir), mode).toBe(before);
      expect(await replayOutcome(dir, "lora", mode), mode).toBe("codec-mismatch");
    }

    expect(await cliOutcomes(dir, "lora")).toEqual({
      walk: "codec-mismatch",
      dump: "codec-mismatch",
      stat: "codec-mismatch",
      inspect: "codec-mismatch",
      verify: "codec-mismatch",
    });
    expect(await cliExitCodes(dir, "lora")).toEqual({ inspect: 5, verify: 5, dump: 5, stat: 5 });
    const verify = await runCli(["verify", dir, "--codec", "lora"]);
    expect(verify.stdout).toContain("CODEC MISMATCH in 0000000001.wal at offset 57");
    expect(verify.stdout).toContain("try --codec json or --codec bytes");
    // Without --codec the CLI does not judge the log by a codec it may not have been written with: framing only.
    const fallback = await runCli(["verify", dir]);
    expect(fallback.code).toBe(0);
    expect(fallback.stdout).toContain(
      "framing only: lora (the default) did not decode the first mutation record, LSN 2 in 0000000001.wal at offset 57",
    );
    expect(await fingerprint(dir)).toBe(before);

    // With its own codec the log is whole.
    const { wal, events } = await Wal.open<JsonValue>(dir, { codec: jsonCodec });
    await wal.close();
    expect(events).toHaveLength(40);
  });
});
