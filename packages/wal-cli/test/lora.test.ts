import { join } from "node:path";
import { LORA_MULTI_SEGMENT_BYTES, type LoraFixtureResult, makeTempDir, writeLoraFixture } from "@lora/test-utils";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inspectDir, statDir, verifyDir } from "../src/index.js";
import { fingerprint, runCli } from "./helpers.js";

describe("a LoraDB-written directory", () => {
  let tmp: { path: string; cleanup(): Promise<void> };
  let fixture: LoraFixtureResult;
  let big: LoraFixtureResult;
  beforeAll(async () => {
    tmp = await makeTempDir("lora-wal-cli");
    fixture = await writeLoraFixture({
      walDir: join(tmp.path, "wal"),
      snapshotDir: join(tmp.path, "snap"),
      snapshotEveryCommits: 20,
    });
    big = await writeLoraFixture({ walDir: join(tmp.path, "big"), bulkBytes: LORA_MULTI_SEGMENT_BYTES });
  });
  afterAll(async () => {
    await tmp.cleanup();
  });

  it("inspect: one line per segment, lock free, clean", async () => {
    const result = await runCli(["inspect", big.walDir]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("free (no writer has the log open)");
    for (const name of big.segments) expect(result.stdout).toContain(name);
    const report = await inspectDir(big.walDir);
    expect(report.segments.length).toBe(big.segments.length);
    expect(report.segments[0]?.sealed).toBe(true);
    expect(report.segments.at(-1)?.sealed).toBe(false);
    expect(report.segments[1]?.baseLsn).toBe((report.segments[0]?.lastLsn ?? 0) + 1);
    expect(report.verdict.status).toBe("clean");
  });

  it("verify: clean, every transaction committed, the checkpoint observed", async () => {
    const result = await runCli(["verify", fixture.walDir]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("clean");
    const report = await verifyDir(fixture.walDir);
    expect(report.replay?.committedTransactions).toBeGreaterThan(40);
    expect(report.replay?.committedTransactions).toBeLessThanOrEqual(fixture.transactions);
    expect(report.replay?.checkpointLsnObserved).not.toBeNull();
  });

  it("dump: LoraDB events readable, 64-bit Ints exact in text and JSON", async () => {
    const text = await runCli(["dump", fixture.walDir, "--kind", "mutationBatch"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain("CreateNode #0 (:Scratch {gone: true})");
    expect(text.stdout).toContain("max: 9223372036854775807, min: -9223372036854775808");
    expect(text.stdout).toContain("Clear");
    expect(text.stdout).toMatch(/CreateRelationship #\d+ \(#\d+\)-\[:KNOWS \{since: 2020, w: 0\.5\}\]->\(#\d+\)/);
    expect(text.stdout).toContain("binary(0x000102, 0x0304ff)");
    const json = await runCli(["dump", fixture.walDir, "--json"]);
    expect(json.code).toBe(0);
    const lines = json.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const ints = lines.find((l) => l.events?.[0]?.labels?.[0] === "Ints");
    expect(ints.events[0].properties.max).toEqual({ $int: "9223372036854775807" });
    expect(ints.events[0].properties.min).toEqual({ $int: "-9223372036854775808" });
    expect(typeof ints.events[0].id).toBe("string");
    expect(ints).toMatchObject({ segment: "0000000001.wal", kind: "mutationBatch", txBeginLsn: ints.lsn - 1 });
    const maps = lines.find((l) => l.events?.[0]?.labels?.[0] === "Maps");
    expect(Object.keys(maps.events[0].properties.proto)).toEqual(["__proto__"]);
    const checkpoints = lines.filter((l) => l.kind === "checkpoint");
    expect(checkpoints.length).toBeGreaterThan(0);
    expect(typeof checkpoints[0].snapshotLsn).toBe("number");
  });

  it("dump filters: LSN range, kind, transaction, limit", async () => {
    const all = (await runCli(["dump", fixture.walDir, "--json"])).stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const range = (await runCli(["dump", fixture.walDir, "--json", "--from-lsn", "10", "--to-lsn", "20"])).stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(range.map((r) => r.lsn)).toEqual(all.filter((r) => r.lsn >= 10 && r.lsn <= 20).map((r) => r.lsn));
    const begin = all.find((r) => r.kind === "txBegin" && r.lsn > 30);
    const tx = (await runCli(["dump", fixture.walDir, "--json", "--tx", String(begin.lsn)])).stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(tx.map((r) => r.kind)).toEqual(["txBegin", "mutationBatch", "txCommit"]);
    const limited = await runCli(["dump", fixture.walDir, "--json", "-n", "4", "-k", "txCommit"]);
    expect(
      limited.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l).kind),
    ).toEqual(Array(4).fill("txCommit"));
  });

  it("dump --from-lsn on a multi-segment log starts at the right segment", async () => {
    const report = await inspectDir(big.walDir);
    const base = report.segments[1]?.baseLsn as number;
    const result = await runCli(["dump", big.walDir, "--json", "--from-lsn", String(base), "-n", "1"]);
    expect(JSON.parse(result.stdout)).toMatchObject({ segment: report.segments[1]?.name, lsn: base, offset: 32 });
  });

  it("stat: counts by kind, transaction sizes, checkpoints", async () => {
    const report = await statDir(fixture.walDir);
    expect(report.byKind.txBegin.records).toBe(report.byKind.txCommit.records);
    expect(report.transactions.committed).toBe(report.byKind.txCommit.records);
    expect(report.codec).toEqual({ name: "lora", framingOnly: false, source: "default" });
    const events = report.transactions.events;
    expect(events?.min).toBeGreaterThanOrEqual(1);
    expect(events?.max).toBeGreaterThanOrEqual(events?.median ?? Number.POSITIVE_INFINITY);
    expect(report.checkpoints.count).toBeGreaterThan(0);
    expect(report.verdict.status).toBe("clean");
    const text = await runCli(["stat", fixture.walDir]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain("checkpoints");
  });

  it("changes nothing in LoraDB's directory (lock file included)", async () => {
    const before = await fingerprint(tmp.path);
    for (const command of ["inspect", "verify", "dump", "stat"]) {
      await runCli([command, fixture.walDir]);
      await runCli([command, big.walDir]);
    }
    expect(await fingerprint(tmp.path)).toBe(before);
  });
});
