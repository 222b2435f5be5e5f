/**
 * The library functions behind the commands refuse bad options with `WAL_INVALID_OPTION` before reading anything:
 * a `limit` of 0 used to dump one record, `NaN` bounds meant no bound, `kinds: "txBegin"` (a string: a set of its
 * characters) dumped nothing, and an unknown codec or a callback that is not a function failed with a plain error.
 */

import { jsonCodec } from "@lora/wal-codec";
import { describe, expect, it, vi } from "vitest";
import { type DumpOptions, dumpRecords, inspectDir, statDir, verifyDir } from "../src/index.js";
import type { ReadOptions } from "../src/read-options.js";
import { runCli, useJsonWal } from "./helpers.js";

async function dumped(dir: string, options: DumpOptions): Promise<number> {
  let n = 0;
  for await (const item of dumpRecords(dir, options)) if (item.type === "record") n++;
  return n;
}

describe("bad options of the library functions", () => {
  let dir: string;
  useJsonWal("lora-wal-cli-options", { transactions: 4 }, (wal) => {
    dir = wal.dir;
  });

  it("dumpRecords refuses bad bounds, limits and kinds", async () => {
    const refused: DumpOptions[] = [
      { limit: 0 },
      { limit: -1 },
      { limit: 1.5 },
      { fromLsn: Number.NaN },
      { toLsn: -2 },
      { toLsn: "3" as never },
      { fromLsn: 9, toLsn: 3 },
      { tx: Number.NaN },
      { kinds: "txBegin" as never },
      { kinds: ["begin"] as never },
      { codec: "xml" as never },
    ];
    const onRead = vi.fn();
    for (const options of refused) {
      await expect(dumped(dir, { codec: "json", onRead, ...options }), JSON.stringify(options)).rejects.toMatchObject({
        code: "WAL_INVALID_OPTION",
      });
    }
    expect(onRead).not.toHaveBeenCalled();
    // The same options, valid: 4 transactions of 3 records each.
    expect(await dumped(dir, { codec: "json" })).toBe(12);
    expect(await dumped(dir, { codec: "json", limit: 1 })).toBe(1);
    expect(await dumped(dir, { codec: "json", fromLsn: 4, toLsn: 6 })).toBe(3);
    expect(await dumped(dir, { codec: "json", kinds: ["txBegin"] })).toBe(4);
  });

  it("inspectDir, statDir and verifyDir refuse an unknown codec, a bad payloadCodec and callbacks that are not functions", async () => {
    const refused: ReadOptions[] = [
      { codec: "xml" as never },
      { payloadCodec: {} as never },
      { onTotal: 5 as never },
      { onRead: "x" as never },
      { onCodec: {} as never },
      { onProgress: 1 as never },
    ];
    const onTotal = vi.fn();
    for (const command of [inspectDir, statDir, verifyDir]) {
      for (const options of refused) {
        await expect(
          command(dir, { onTotal, ...options }),
          `${command.name} ${JSON.stringify(options)}`,
        ).rejects.toMatchObject({
          code: "WAL_INVALID_OPTION",
        });
      }
    }
    expect(onTotal).not.toHaveBeenCalled();
    // The CLI only decodes: a codec with a name and the two decode methods is enough (as for --codec-module).
    const decodeOnly = { name: "json", decodeEvent: jsonCodec.decodeEvent, decodeBatch: jsonCodec.decodeBatch };
    const report = await verifyDir(dir, { payloadCodec: decodeOnly as never });
    expect(report.codec.name).toBe("json");
  });

  it("every command function refuses an option name it does not know, naming itself, before reading", async () => {
    const onTotal = vi.fn();
    for (const command of [inspectDir, statDir, verifyDir]) {
      await expect(command(dir, { onTotal, codecs: "json" } as never)).rejects.toMatchObject({
        code: "WAL_INVALID_OPTION",
        message: expect.stringContaining(`${command.name}: unknown option "codecs" (did you mean "codec"?)`),
      });
    }
    await expect(dumped(dir, { onTotal, fromLSN: 2 } as never)).rejects.toMatchObject({
      code: "WAL_INVALID_OPTION",
      message: expect.stringContaining('dumpRecords: unknown option "fromLSN" (did you mean "fromLsn"?)'),
    });
    expect(onTotal).not.toHaveBeenCalled();
  });

  it("lora-wal dump --limit 0 is a usage error (exit 3)", async () => {
    const result = await runCli(["dump", dir, "--codec", "json", "--limit", "0"]);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain("--limit must be an integer of at least 1");
  });
});

describe("a path that is not one", () => {
  it("the API refuses it with WAL_INVALID_ARGUMENT; the command exits 3 (usage), reading nothing", async () => {
    for (const bad of [42, null, "", "wal\0dir"]) {
      await expect(verifyDir(bad as string)).rejects.toMatchObject({ code: "WAL_INVALID_ARGUMENT" });
      await expect(inspectDir(bad as string)).rejects.toMatchObject({ code: "WAL_INVALID_ARGUMENT" });
    }
    for (const command of ["verify", "inspect", "stat", "dump"]) {
      const run = await runCli([command, ""]);
      expect(run.code).toBe(3);
      expect(run.stderr).toContain("the path must be a non-empty string");
    }
  });
});
