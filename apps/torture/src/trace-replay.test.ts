/**
 * Exact replay of tier D: a saved trace is checked again with `--trace-file`, recording nothing (no strace, no
 * writer). The saved traces here are hand-written (trace-fixture.ts) with the real bytes of a segment and a commit.
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runTierD } from "./tier-d.js";
import { ACKS, oneCommitTrace, ROOT } from "./trace-fixture.js";
import { loadTrace, replayCommand, type SavedTrace, saveTrace } from "./trace-saved.js";

const dir = mkdtempSync(join(tmpdir(), "lora-wal-replay-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function saved(name: string, trace: string, mode: SavedTrace["mode"] = "perCommit"): string {
  const s: SavedTrace = {
    seed: 5,
    case: 0,
    workload: "wal",
    mode,
    bug: "none",
    commits: 1,
    root: ROOT,
    ackPath: ACKS,
    strictSamples: 4,
    maxStates: 100,
    staticViolations: true,
    status: 0,
    trace,
  };
  return saveTrace(s, join(dir, `${name}.json`));
}

const replay = (traceFile: string) =>
  runTierD({ seed: 0, traces: 0, commits: 0, strictSamples: 0, maxStates: 0, traceFile });
const kinds = (r: Awaited<ReturnType<typeof replay>>) => [...new Set(r.violations.map((v) => v.kind))].sort();

describe("tier D replay of a saved trace", () => {
  it("an ack without the fdatasync: the static check and a crash state that lost the commit, every time", async () => {
    const path = saved("no-datasync", oneCommitTrace({ datasync: false, claims: ["ack 3 0", "closed"] }));
    const first = await replay(path);
    expect(first.extra.replayed).toBe(1);
    expect(first.extra.traces).toBe(1);
    expect(kinds(first)).toEqual(["lost", "sync-order"]);
    expect(first.violations.find((v) => v.kind === "lost")?.message).toMatch(/durable commit 0 \(LSN 3\) is missing/);
    for (const v of first.violations) expect(v.replay).toBe(replayCommand(path));
    // The replay is exact: the same trace gives the same findings, state for state.
    const again = await replay(path);
    expect(again.violations.map((v) => v.message)).toEqual(first.violations.map((v) => v.message));
  });

  it("the same trace with the fdatasync: no violation, and the commit was required", async () => {
    const r = await replay(saved("clean", oneCommitTrace({ datasync: true, claims: ["ack 3 0", "closed"] })));
    expect(r.violations.map((v) => v.message)).toEqual([]);
    expect(r.extra.statesChecked).toBeGreaterThan(1);
    expect(r.ackedChecked).toBeGreaterThan(0);
  });

  it("none mode: `synced` claims durability like an ack, `wrote` claims nothing", async () => {
    const synced = await replay(
      saved("synced", oneCommitTrace({ datasync: false, claims: ["wrote 3 0", "synced 3"] }), "none"),
    );
    expect(kinds(synced)).toEqual(["lost", "sync-order"]);
    expect(synced.violations.find((v) => v.kind === "sync-order")?.message).toMatch(
      /^static: synced 3 while the write/,
    );
    // `wrote` then a `synced` below it: commit 0 was never claimed durable, so neither the static check nor a
    // crash state that lost it (the write was never fdatasynced) is a violation.
    const wrote = await replay(
      saved("wrote", oneCommitTrace({ datasync: false, claims: ["wrote 3 0", "synced 0"] }), "none"),
    );
    expect(wrote.violations.map((v) => v.message)).toEqual([]);
    expect(wrote.extra.staticFindings ?? 0).toBe(0);
    expect(wrote.extra.statesChecked).toBeGreaterThan(1);
  });

  it("a violation saves the trace it came from, and the file loads back whole", () => {
    const trace = oneCommitTrace({ datasync: false, claims: ["ack 3 0"] });
    const back = loadTrace(saved("roundtrip", trace));
    expect(back.trace).toBe(trace);
    expect([back.root, back.ackPath, back.workload, back.mode, back.seed]).toEqual([ROOT, ACKS, "wal", "perCommit", 5]);
  });
});
