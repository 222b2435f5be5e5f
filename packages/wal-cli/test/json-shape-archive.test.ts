/**
 * `archive ls --json`, `archive verify --json` and `restore --json` have one key set per command whatever the
 * archive holds: empty, complete (sealed segments and the newest's pieces), sealed segments only, pieces only, a
 * segment absent, an object corrupt; and `restore` whole, to a point, from a fence or with a successor created. A key
 * that does not apply is `null` (`lsnRange.to` of the newest segment, `firstLsn` of an empty archive, `successor`),
 * never left out.
 */

import { cp, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fsArchive } from "@lora/wal-archive";
import { SEGMENT_HEADER_BYTES } from "@lora/wal-segment";
import { describe, expect, it } from "vitest";
import { archivedLog } from "./archive-helpers.js";
import { runCli, type TempDir, useJsonWal } from "./helpers.js";
import { expectOneKeySet, type JsonShape, shape } from "./json-keys.js";

describe("the --json key sets of archive ls, archive verify and restore", () => {
  let tmp: TempDir;
  let logDir: string;
  useJsonWal("lora-wal-json-shape-archive", {}, (wal) => {
    ({ tmp, dir: logDir } = wal);
  });

  it("are the same over empty, complete, sealed-only, pieces-only, gapped and corrupt archives", async () => {
    const archive = (name: string) => join(tmp.path, "archives", name);
    await archivedLog(logDir, fsArchive(archive("complete")), 30);
    const sealed = (await readdir(join(archive("complete"), "segments"))).sort();
    expect(sealed.length).toBeGreaterThanOrEqual(3);
    await mkdir(archive("empty"));
    await cp(archive("complete"), archive("sealed-only"), { recursive: true });
    await rm(join(archive("sealed-only"), "partial"), { recursive: true });
    await mkdir(archive("pieces-only"));
    await cp(join(archive("complete"), "partial"), join(archive("pieces-only"), "partial"), { recursive: true });
    await cp(archive("complete"), archive("gap"), { recursive: true });
    await rm(join(archive("gap"), "segments", sealed[1] as string));
    await cp(archive("complete"), archive("corrupt"), { recursive: true });
    const object = join(archive("corrupt"), "segments", sealed[1] as string);
    const bytes = await readFile(object);
    bytes[SEGMENT_HEADER_BYTES + 20] = (bytes[SEGMENT_HEADER_BYTES + 20] as number) ^ 0x40;
    await writeFile(object, bytes);

    const states: [string, number][] = [
      ["complete", 0],
      ["empty", 8],
      ["sealed-only", 0],
      ["pieces-only", 0],
      ["gap", 8],
      ["corrupt", 9],
    ];
    const listings: [string, JsonShape][] = [];
    const checks: [string, JsonShape][] = [];
    for (const [state, verifyExit] of states) {
      const ls = await runCli(["archive", "ls", archive(state), "--json"]);
      expect(ls.code, `${state}: ${ls.stderr}`).toBe(0);
      listings.push([state, shape(JSON.parse(ls.stdout))]);
      const verify = await runCli(["archive", "verify", archive(state), "--json"]);
      expect(verify.code, `${state}: ${verify.stderr}`).toBe(verifyExit);
      checks.push([state, shape(JSON.parse(verify.stdout))]);
    }
    // The states are what they say: a segment from pieces, the newest from a sealed object, problems found.
    const complete = JSON.parse((await runCli(["archive", "ls", archive("complete"), "--json"])).stdout);
    expect(complete.segments.map((s: { source: string }) => s.source).at(-1)).toBe("pieces");
    expect(listings.find(([s]) => s === "gap")?.[1].keys).toContain("totals.absent[].from");
    expect(checks.find(([s]) => s === "corrupt")?.[1].keys).toContain("problems[].key");
    expectOneKeySet("archive ls", listings);
    expectOneKeySet("archive verify", checks);

    const restores: [string, string, string[]][] = [
      ["whole", "complete", []],
      ["to a point", "complete", ["--to-lsn", "40"]],
      ["from a fence", "complete", ["--from-lsn", "50"]],
      ["with a successor", "sealed-only", []],
    ];
    const summaries: [string, JsonShape][] = [];
    for (const [label, state, args] of restores) {
      const run = await runCli([
        "restore",
        archive(state),
        join(tmp.path, `restored-${summaries.length}`),
        ...args,
        "--json",
      ]);
      expect(run.code, `${label}: ${run.stderr}`).toBe(0);
      const summary = JSON.parse(run.stdout);
      // The state is what it says: a sealed newest segment gets its empty successor.
      if (label === "with a successor") expect(summary.successor).toMatch(/^\d{10}\.wal$/);
      summaries.push([label, shape(summary)]);
    }
    expectOneKeySet("restore", summaries);
  });
});
