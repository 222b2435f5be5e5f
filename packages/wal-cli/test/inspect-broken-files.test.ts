/**
 * The `.broken` files an earlier open left (a torn tail it cut, kept as `<segment>.<offset>.broken`; segments a
 * `point-in-time` open moved aside as `<segment>.broken`) are not part of the log, but they are what an operator
 * looks for after a crash: `inspect` lists them with their sizes, in text and in `--json` (`broken`), so the CLI
 * alone tells that an open cut something, and where its bytes are.
 */

import { appendFile, readFile } from "node:fs/promises";
import { join } from "node:path";
import { Wal } from "@lora/wal";
import { jsonCodec } from "@lora/wal-codec";
import { describe, expect, it } from "vitest";
import { inspectDir } from "../src/commands/inspect.js";
import { fingerprint, runCli, segmentFiles, useJsonWal, writeJsonWal } from "./helpers.js";

describe("inspect names the .broken files an earlier open left", () => {
  let dir: string;
  useJsonWal("lora-wal-inspect-kept", {}, (wal) => {
    ({ dir } = wal);
  });

  it("a torn tail an open cut: its .broken copy is listed with its size; verdict clean", async () => {
    await writeJsonWal(dir, 5);
    const [seg] = await segmentFiles(dir);
    const size = (await readFile(join(dir, seg as string))).byteLength;
    await appendFile(join(dir, seg as string), Buffer.from([80, 0, 0, 0, 6, 16, 0]));
    const { wal } = await Wal.open(dir, { codec: jsonCodec });
    await wal.close();
    const copy = `${seg}.${size}.broken`;

    const before = await fingerprint(dir);
    const text = await runCli(["inspect", dir, "--codec", "json"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`broken +1 file .*\\n +${copy.replaceAll(".", "\\.")} +7 B \\(7 bytes\\)`));
    const json = await runCli(["inspect", dir, "--codec", "json", "--json"]);
    expect(JSON.parse(json.stdout).broken).toEqual([{ name: copy, path: join(dir, copy), bytes: 7 }]);
    expect(await fingerprint(dir)).toBe(before);
  });

  it("no .broken file: no line, and an empty list", async () => {
    await writeJsonWal(dir, 2);
    const text = await runCli(["inspect", dir, "--codec", "json"]);
    expect(text.stdout).not.toMatch(/^broken/m);
    expect((await inspectDir(dir, { codec: "json" })).broken).toEqual([]);
  });
});
