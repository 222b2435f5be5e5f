/**
 * Logs of a codec the CLI does not have: framing-only reading (`--codec framing`, and the fallback when no codec is
 * named and the default does not decode the first mutation record) and `--codec-module <file>`, a store author's
 * own codec (the tiny job codec in `fixtures/tiny-codec.mjs`).
 */

import { open, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { makeTempDir } from "@lora/test-utils";
import { Wal } from "@lora/wal";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { dumpRecords, inspectDir, statDir, verifyDir } from "../src/index.js";
import { bundleCli, runCliProcess } from "./cli-process.js";
import { type TinyJob, codec as tinyCodec } from "./fixtures/tiny-codec.mjs";
import { fingerprint, runCli, segmentFiles, writeJsonWal } from "./helpers.js";

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const TINY = fixture("tiny-codec.mjs");

const JOBS: readonly TinyJob[] = [
  { id: "a", attempts: 1 },
  { id: "bb", attempts: 2 },
  { id: "c", attempts: 0 },
  { id: "dropped", attempts: 9 },
  { id: "d", attempts: 3 },
];

/**
 * With the tiny codec: a batch transaction (LSN 1..3), a single-event one (4..6), an aborted one (7..9) and a
 * one-event `commitTx` (10..12).
 */
async function writeTinyWal(dir: string, segmentTargetBytes = 1 << 20): Promise<void> {
  const { wal } = await Wal.open<TinyJob>(dir, { codec: tinyCodec, segmentTargetBytes });
  try {
    await wal.commitTx([JOBS[0] as TinyJob, JOBS[1] as TinyJob]);
    const single = await wal.begin();
    await wal.append(single, JOBS[2] as TinyJob);
    await wal.commit(single);
    const aborted = await wal.begin();
    await wal.append(aborted, JOBS[3] as TinyJob);
    await wal.abort(aborted);
    await wal.commitTx([JOBS[4] as TinyJob]);
  } finally {
    await wal.close();
  }
}

/** Lines of a captured stream that look like a stack trace. */
const stackLines = (text: string) => text.split("\n").filter((line) => /^\s+at /.test(line));

describe("a log written with a codec the CLI does not have", () => {
  let tmp: { path: string; cleanup(): Promise<void> };
  let dir: string;
  beforeEach(async () => {
    tmp = await makeTempDir("lora-wal-cli-codec");
    dir = join(tmp.path, "wal");
    await writeTinyWal(dir);
  });
  afterEach(async () => {
    await tmp.cleanup();
  });

  it("verify without --codec falls back to framing only, says so, and finds the log clean (never exit 5 or 2)", async () => {
    const before = await fingerprint(dir);
    const result = await runCli(["verify", dir]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      "codec         framing only: lora (the default) did not decode the first mutation record, LSN 2 in 0000000001.wal at offset 57",
    );
    expect(result.stdout).toContain("records       12, max LSN 12");
    expect(result.stdout).toContain("transactions  3 committed, 1 aborted, 0 unfinished");
    expect(result.stdout).toContain("result        clean");

    const report = await verifyDir(dir);
    expect(report.codec).toMatchObject({
      name: "framing",
      framingOnly: true,
      source: "fallback",
      fallback: { codec: "lora", segment: "0000000001.wal", offset: 57, lsn: 2 },
    });
    expect(report.verdict.status).toBe("clean");
    expect(report.replay).toMatchObject({ records: 12, committedTransactions: 3, abortedTransactions: 1 });
    expect(await fingerprint(dir)).toBe(before);
  });

  it("inspect and stat fall back the same way; stat counts records and transactions but not events", async () => {
    const inspect = await runCli(["inspect", dir]);
    expect(inspect.code).toBe(0);
    expect(inspect.stdout).toContain("codec      framing only: lora (the default) did not decode");
    expect(inspect.stdout).toContain("verdict    clean");
    const inspected = await inspectDir(dir);
    expect(inspected.codec.source).toBe("fallback");
    expect(inspected.segments.map((s) => [s.records, s.firstLsn, s.lastLsn, s.damage])).toEqual([[12, 1, 12, null]]);

    const stat = await runCli(["stat", dir]);
    expect(stat.code).toBe(0);
    expect(stat.stdout).toContain("events        not counted (framing only)");
    const report = await statDir(dir);
    expect(report.codec.framingOnly).toBe(true);
    expect(report.events).toBeNull();
    expect(report.transactions).toMatchObject({ committed: 3, aborted: 1, unfinished: 0, events: null });
    expect(report.byKind.mutationBatch.records).toBe(2);
    expect(report.byKind.mutation.records).toBe(2);
    expect(report.verdict.status).toBe("clean");
  });

  it("--codec framing is the same reading, chosen; --codec lora named explicitly is still exit 5", async () => {
    const framing = await verifyDir(dir, { codec: "framing" });
    expect(framing.codec).toEqual({ name: "framing", framingOnly: true, source: "option" });
    expect(framing.verdict.status).toBe("clean");
    const text = await runCli(["stat", dir, "--codec", "framing"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain("framing only (--codec framing)");
    for (const command of ["verify", "inspect", "stat"]) {
      const named = await runCli([command, dir, "--codec", "lora"]);
      expect(named.code, command).toBe(5);
      expect(named.stdout, command).toContain("--codec-module <file>");
    }
  });

  it("framing only still finds damage in the framing: a flipped byte in a sealed segment is corruption", async () => {
    const small = join(tmp.path, "small-segments");
    await writeTinyWal(small, 128);
    const segments = await segmentFiles(small);
    expect(segments.length).toBeGreaterThan(1);
    const segment = segments[0] as string;
    const path = join(small, segment);
    // Inside the payload of the batch record at LSN 2 (offset 57): its CRC no longer matches.
    const file = await open(path, "r+");
    try {
      await file.write(Buffer.from([0xff]), 0, 1, 57 + 21 + 1);
    } finally {
      await file.close();
    }
    expect((await readFile(path)).byteLength).toBeGreaterThan(100);
    for (const codec of [["--codec", "framing"], []]) {
      const result = await runCli(["verify", small, ...codec]);
      expect(result.code, codec.join(" ")).toBe(2);
      expect(result.stdout, codec.join(" ")).toContain(`CORRUPTION in ${segment} at offset 57`);
    }
    expect((await statDir(small, { codec: "framing" })).verdict).toMatchObject({ status: "corruption", offset: 57 });
  });

  it("dump --codec-module decodes the events; verify, inspect and stat read with it too", async () => {
    const dump = await runCli(["dump", dir, "--codec-module", TINY, "--json"]);
    expect(dump.code).toBe(0);
    expect(dump.stderr).toBe("");
    const records = dump.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { lsn: number; kind: string; events: unknown[] | null });
    expect(records.filter((r) => r.events !== null).map((r) => [r.lsn, r.kind, r.events])).toEqual([
      [2, "mutationBatch", [JOBS[0], JOBS[1]]],
      [5, "mutation", [JOBS[2]]],
      [8, "mutation", [JOBS[3]]],
      [11, "mutationBatch", [JOBS[4]]],
    ]);
    const text = await runCli(["dump", dir, "--codec-module", TINY, "--tx", "4"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('{"id":"c","attempts":0}');

    for (const command of ["verify", "inspect", "stat"]) {
      const result = await runCli([command, dir, "--codec-module", TINY, "--json"]);
      expect(result.code, command).toBe(0);
      expect(JSON.parse(result.stdout).codec, command).toEqual({
        name: "tiny",
        framingOnly: false,
        source: "module",
        fallback: null,
      });
    }
    const stat = JSON.parse((await runCli(["stat", dir, "--codec-module", TINY, "--json"])).stdout);
    expect(stat.events).toBe(5);
  });

  it("a module codec's events print in exact JSON, bigints included, whatever its name (this one says json)", async () => {
    const bigint = fixture("bigint-codec.mjs");
    const text = await runCli(["dump", dir, "--codec-module", bigint, "--tx", "4"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('    {"size":{"$int":"4"}}');
    const json = await runCli(["dump", dir, "--codec-module", bigint, "--tx", "4", "--json"]);
    expect(json.code).toBe(0);
    expect(json.stdout).toContain('"events":[{"size":{"$int":"4"}}]');
  });

  it("a module whose default export is the codec loads too", async () => {
    const result = await runCli(["verify", dir, "--codec-module", fixture("tiny-codec-default.mjs")]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('"tiny" (--codec-module)');
  });

  it("dump without a codec prints the framing: payload sizes, no events, and says why on stderr", async () => {
    const items = [];
    for await (const item of dumpRecords(dir)) items.push(item);
    const batch = items.find((i) => i.type === "record" && i.lsn === 2);
    // "TB", the count, then each job after its length: "TJ", attempts, id.
    expect(batch).toMatchObject({ kind: "mutationBatch", payloadBytes: 3 + (1 + 4) + (1 + 5) });
    expect(batch).not.toHaveProperty("events");
    const result = await runCli(["dump", dir, "--json"]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("codec: framing only: lora (the default) did not decode");
    expect(JSON.parse(result.stdout.split("\n")[1] as string)).toMatchObject({ lsn: 2, payloadBytes: 14 });
  });

  it("a JSON log read with the tiny codec module is a codec mismatch (exit 5) naming the module's codec", async () => {
    const json = join(tmp.path, "json");
    await writeJsonWal(json, 2);
    const result = await runCli(["verify", json, "--codec-module", TINY]);
    expect(result.code).toBe(5);
    expect(result.stdout).toContain('read with the --codec-module codec "tiny"');
    expect(result.stdout).toContain("not a tiny batch");
    expect(stackLines(result.stdout + result.stderr)).toEqual([]);
  });

  it("follow --codec-module prints each transaction's events in the exact JSON form, in text and with --json", async () => {
    const before = await fingerprint(dir);
    const text = await runCli(["follow", dir, "--codec-module", TINY, "--count", "3"]);
    expect(text.stderr).toBe("");
    expect(text.code).toBe(0);
    const dumped = await runCli(["dump", dir, "--codec-module", TINY]);
    const eventLines = (out: string) => out.split("\n").filter((line) => line.startsWith("    {"));
    // The same event lines dump prints for the same codec, in commit order; the aborted job is not there.
    expect(eventLines(text.stdout)).toEqual(eventLines(dumped.stdout).filter((l) => !l.includes("dropped")));
    expect(eventLines(text.stdout)).toHaveLength(4);
    const json = await runCli(["follow", dir, "--codec-module", TINY, "--json", "--until-lsn", "12"]);
    expect(json.code).toBe(0);
    const lines = json.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(lines.map((tx) => [tx.beginLsn, tx.commitLsn, tx.events.length])).toEqual([
      [1, 3, 2],
      [4, 6, 1],
      [10, 12, 1],
    ]);
    expect(await fingerprint(dir)).toEqual(before);
  });

  it("follow --codec-module with a codec the log was not written with is a codec mismatch (exit 5) naming it", async () => {
    const other = join(tmp.path, "json-wal");
    await writeJsonWal(other, 2);
    const result = await runCli(["follow", other, "--codec-module", TINY, "--count", "1"]);
    expect(result.code).toBe(5);
    expect(result.stderr).toContain("WAL_CODEC_MISMATCH");
    expect(stackLines(result.stderr)).toEqual([]);
  });
});

describe("--codec-module refusals: exit 3 with a clear line, never a stack trace", () => {
  const dir = fileURLToPath(new URL("./fixtures", import.meta.url));
  const cases: [string, string[], string][] = [
    ["a missing file", ["--codec-module", fixture("nope.mjs")], "no such file"],
    ["no codec export", ["--codec-module", fixture("not-a-codec.mjs")], "its 'codec' export has no 'decodeBatch'"],
    ["no exports at all", ["--codec-module", fixture("no-exports.mjs")], "neither a 'codec' export nor a default"],
    ["a throwing module", ["--codec-module", fixture("throws-on-load.mjs")], "needs a configuration it does not have"],
    [
      "both codec options",
      ["--codec", "json", "--codec-module", TINY],
      "--codec and --codec-module exclude each other",
    ],
  ];
  for (const [what, options, message] of cases) {
    it(what, async () => {
      for (const command of ["verify", "inspect", "stat", "dump"]) {
        const result = await runCli([command, dir, ...options]);
        expect(result.code, command).toBe(3);
        expect(result.stderr, command).toContain(message);
        expect(result.stdout, command).toBe(command === "dump" ? result.stdout : "");
        expect(stackLines(result.stderr), command).toEqual([]);
      }
    });
  }

  it("follow refuses --codec with --codec-module, and a module that is not a codec (exit 3)", async () => {
    const both = await runCli(["follow", dir, "--codec", "json", "--codec-module", TINY]);
    expect(both.code).toBe(3);
    expect(both.stderr).toContain("--codec and --codec-module exclude each other");
    const missing = await runCli(["follow", dir, "--codec-module", fixture("nope.mjs")]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain("no such file");
  });

  it("follow refuses --codec framing (it prints events)", async () => {
    const result = await runCli(["follow", dir, "--codec", "framing"]);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain("--codec framing reads no events");
  });
});

it("as a program (node, not the test runner, imports the module): dump --codec-module decodes, a bad module is exit 3", async () => {
  const bin = await bundleCli({ s3Sdk: false });
  const tmp = await makeTempDir("lora-wal-cli-codec-bin");
  try {
    const dir = join(tmp.path, "wal");
    await writeTinyWal(dir);
    const dump = await runCliProcess(bin, ["dump", dir, "--codec-module", TINY, "--tx", "4", "--json"]);
    expect(dump.code).toBe(0);
    const events = dump.stdout
      .trim()
      .split("\n")
      .flatMap((line) => (JSON.parse(line) as { events: unknown[] | null }).events ?? []);
    expect(events).toEqual([JOBS[2]]);
    const bad = await runCliProcess(bin, ["verify", dir, "--codec-module", fixture("throws-on-load.mjs")]);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toContain("did not load: this codec module needs a configuration it does not have");
    expect(stackLines(bad.stderr)).toEqual([]);
    const fallback = await runCliProcess(bin, ["verify", dir]);
    expect(fallback.code).toBe(0);
    expect(fallback.stdout).toContain("framing only: lora (the default) did not decode");
  } finally {
    await tmp.cleanup();
  }
});
