/**
 * Tier D's check of one materialised state (checkWalState), on logs written here: the writer's commits as a prefix
 * in LSN order, whole, each at its LSN, and every required one present.
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type JsonValue, jsonCodec, Wal } from "@lora/wal";
import { afterEach, describe, expect, it } from "vitest";
import { type Commits, checkWalState, type Required } from "./trace-check.js";
import { traceEvents } from "./trace-workload.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/**
 * A log holding one commitTx per event list, and for each "aborted" a transaction of one event that is aborted (three
 * LSNs no commit uses); returns its directory and each commitTx's commit LSN.
 */
async function logOf(...txs: (JsonValue[] | "aborted")[]): Promise<{ dir: string; lsns: number[] }> {
  const dir = join(mkdtempSync(join(tmpdir(), "trace-check-")), "wal");
  dirs.push(dirname(dir));
  const { wal } = await Wal.open<JsonValue>(dir, { codec: jsonCodec, syncMode: "none" });
  const lsns: number[] = [];
  for (const events of txs) {
    if (events === "aborted") {
      const b = await wal.begin();
      await wal.append(b, "x");
      await wal.abort(b);
    } else lsns.push((await wal.commitTx(events))?.commitLsn ?? Number.NaN);
  }
  await wal.close();
  return { dir, lsns };
}

function dirname(p: string): string {
  return p.slice(0, p.lastIndexOf("/"));
}

/** The writer's commits: index -> LSN, in LSN order. */
function commits(lsnOf: [number, number][]): Commits {
  const m = new Map(lsnOf);
  return { lsnOf: m, order: [...m.keys()].sort((a, b) => (m.get(a) as number) - (m.get(b) as number)) };
}

const none: Required = { fence: 0, commits: new Map() };
const kinds = async (dir: string, req: Required, c: Commits) =>
  (await checkWalState(dir, req, c)).problems.map((p) => p.kind);

describe("tier D's check of a WAL state", () => {
  it("the writer's commits, in order, whole, at their LSNs, pass", async () => {
    const { dir, lsns } = await logOf(traceEvents(0), traceEvents(1));
    const c = commits([
      [0, lsns[0] as number],
      [1, lsns[1] as number],
    ]);
    expect(await kinds(dir, { fence: 0, commits: new Map([[1, lsns[1] as number]]) }, c)).toEqual([]);
  });

  it("a commit recovered with its id but other events is not the writer's", async () => {
    const bad = traceEvents(1).map((e, k) => (k === 0 ? { ...(e as object), pad: "x" } : e));
    const { dir, lsns } = await logOf(traceEvents(0), bad);
    const c = commits([
      [0, lsns[0] as number],
      [1, lsns[1] as number],
    ]);
    expect(await kinds(dir, none, c)).toEqual(["phantom"]);
  });

  it("a later commit without an earlier one is a hole, and a required one missing is lost", async () => {
    // The writer's commit 1 was at LSNs 4..6 (aborted here, so the LSNs are used); the state holds 0 and 2 only.
    const { dir, lsns } = await logOf(traceEvents(0), "aborted", traceEvents(2));
    const c = commits([
      [0, lsns[0] as number],
      [1, 6],
      [2, lsns[1] as number],
    ]);
    expect(lsns).toEqual([3, 9]);
    expect(await kinds(dir, none, c)).toEqual(["hole"]);
    // checkWalState commits once more and reopens: a fresh copy of the state for the second check.
    const again = await logOf(traceEvents(0), "aborted", traceEvents(2));
    expect(await kinds(again.dir, { fence: 0, commits: new Map([[1, 6]]) }, c)).toEqual(["hole", "lost"]);
  });
});
