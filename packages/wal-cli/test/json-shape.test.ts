/**
 * The `--json` reports of `inspect`, `verify` and `stat` have one key set whatever the log's state: a key that does
 * not apply is `null`, never left out. Clean verdicts used to have no `segment`, `segmentPath`, `offset`, `lsn` or
 * `code`, and a torn tail no `lsn`, so a script reading `verdict.offset` met `undefined` on some logs only.
 */

import { cp, mkdir, open, readFile, rm, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli, segmentFiles, useJsonWal } from "./helpers.js";
import { expectOneKeySet, type JsonShape, shape } from "./json-keys.js";

describe("the --json key sets of inspect, verify and stat", () => {
  let dir: string;
  let tmp: string;
  useJsonWal("lora-wal-json-shape", { transactions: 5 }, (wal) => {
    dir = wal.dir;
    tmp = wal.tmp.path;
  });

  it("are the same over clean, torn-tail, corrupt, headerless, bad-header, empty, framing-only and lock-invalid logs", async () => {
    const [first] = await segmentFiles(dir);
    const state = async (name: string, damage: (segment: string) => Promise<void>): Promise<string> => {
      const copy = join(tmp, name);
      await cp(dir, copy, { recursive: true });
      await damage(join(copy, first as string));
      return copy;
    };
    const torn = await state("torn", async (segment) => {
      const size = (await readFile(segment)).length;
      await truncate(segment, size - 5);
    });
    const corrupt = await state("corrupt", async (segment) => {
      const fh = await open(segment, "r+");
      const byte = Buffer.alloc(1);
      await fh.read(byte, 0, 1, 80);
      byte[0] = (byte[0] as number) ^ 0x10;
      await fh.write(byte, 0, 1, 80);
      await fh.close();
    });
    const headerless = await state("headerless", async () => {
      await writeFile(join(tmp, "headerless", "0000000002.wal"), Buffer.alloc(10));
    });
    const badHeader = await state("bad-header", async (segment) => {
      const fh = await open(segment, "r+");
      await fh.write(Buffer.from("XXXX"), 0, 4, 0);
      await fh.close();
    });
    const empty = join(tmp, "empty");
    await mkdir(empty);
    // A lock file that is a directory: inspect's lock is "invalid", with a lockError saying why.
    const lockDir = await state("lock-dir", async () => {
      await rm(join(tmp, "lock-dir", ".lora-wal.lock"), { force: true });
      await mkdir(join(tmp, "lock-dir", ".lora-wal.lock"));
    });
    const runs: [string, string[]][] = [
      ["clean", [dir, "--codec", "json"]],
      ["clean, framing only as a fallback", [dir]],
      ["torn tail", [torn, "--codec", "json"]],
      ["corrupt", [corrupt, "--codec", "json"]],
      ["headerless", [headerless, "--codec", "json"]],
      ["bad header", [badHeader, "--codec", "json"]],
      ["codec mismatch", [dir, "--codec", "lora"]],
      ["empty", [empty, "--codec", "json"]],
      ["lock file a directory", [lockDir, "--codec", "json"]],
    ];
    for (const command of ["inspect", "verify", "stat"]) {
      const shapes: [string, JsonShape][] = [];
      for (const [label, args] of runs) {
        const run = await runCli([command, ...args, "--json"]);
        shapes.push([label, shape(JSON.parse(run.stdout))]);
      }
      const exits = new Set<string>();
      for (const [label, args] of runs) exits.add(`${label}: ${(await runCli([command, ...args, "--json"])).code}`);
      // The states are what they say: every exit status a log can give but usage and I/O is among them.
      expect([...exits].map((e) => e.split(": ")[1]).sort(), command).toEqual(
        expect.arrayContaining(["0", "1", "2", "5"]),
      );
      expectOneKeySet(command, shapes);
      const verdict = JSON.parse((await runCli([command, dir, "--codec", "json", "--json"])).stdout).verdict;
      expect(Object.keys(verdict), command).toEqual([
        "status",
        "exitCode",
        "segment",
        "segmentPath",
        "offset",
        "lsn",
        "code",
        "message",
        "next",
      ]);
    }
  });
});
