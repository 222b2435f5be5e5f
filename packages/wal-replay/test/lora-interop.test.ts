/**
 * Interop with the real engine: replay WAL directories that LoraDB (`@loradb/lora-node` 0.15.0) wrote, apply the
 * events to an in-memory graph, and compare with what the engine itself reports through Cypher. Replay is
 * read-only, so LoraDB must still open each directory afterwards.
 */

import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { GraphModel, loraPropertyText, readLoraGraph } from "@lora/test-lora-graph";
import {
  LORA_MULTI_SEGMENT_BYTES,
  type LoraFixtureOptions,
  type LoraFixtureResult,
  makeTempDir,
  writeLoraFixture,
} from "@lora/test-utils";
import { loraCodec, MUTATION_EVENT_TYPES, type MutationEvent } from "@lora/wal-codec/lora";
import { createDatabase, openWalDatabase } from "@loradb/lora-node";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type ReplayedTransaction, type ReplayOutcome, replayDir } from "../src/index.js";

let tmp: Awaited<ReturnType<typeof makeTempDir>>;
beforeEach(async () => {
  tmp = await makeTempDir("replay-lora-interop");
});
afterEach(async () => {
  await tmp.cleanup();
});

interface Replayed {
  readonly txs: ReplayedTransaction<MutationEvent>[];
  readonly outcome: ReplayOutcome;
  readonly model: GraphModel;
}

async function replay(walDir: string, checkpointLsn = 0): Promise<Replayed> {
  const run = replayDir(walDir, { codec: loraCodec, checkpointLsn });
  const txs: ReplayedTransaction<MutationEvent>[] = [];
  const model = new GraphModel();
  for await (const tx of run) {
    txs.push(tx);
    model.applyAll(tx.events);
  }
  return { txs, outcome: await run.outcome(), model };
}

/** Bytes and modification times of every file in `dir`, to prove a replay changed nothing. */
async function fingerprint(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await readdir(dir)).sort()) {
    const path = join(dir, name);
    out[name] = `${(await stat(path)).mtimeMs}:${(await readFile(path)).toString("base64")}`;
  }
  return out;
}

/** The checks every LoraDB-written directory must pass; returns the replay for more specific ones. */
async function replayAndCompare(fixture: LoraFixtureResult): Promise<Replayed> {
  const before = await fingerprint(fixture.walDir);
  const r = await replay(fixture.walDir);
  const { outcome, txs, model } = r;

  // Complete, undamaged, every segment walked and every record read.
  expect(outcome.complete).toBe(true);
  expect(outcome.tornTail).toBeNull();
  expect(outcome.corruption).toBeNull();
  expect(outcome.headerlessLastSegment).toBeNull();
  expect(outcome.segments.map((s) => s.path)).toEqual(fixture.segments.map((n) => join(fixture.walDir, n)));
  for (const s of outcome.segments) {
    expect(s.endOffset, s.path).toBe(s.fileSize);
    expect(s.records, s.path).toBeGreaterThan(0);
  }
  expect(outcome.segments.reduce((n, s) => n + s.records, 0)).toBe(outcome.records);
  expect(outcome.abortedTransactions).toBe(0);
  expect(outcome.uncommittedTransactions).toBe(0);
  // The two `IF EXISTS` drops of missing names change nothing, so LoraDB writes no transaction for them.
  expect(outcome.committedTransactions).toBe(fixture.transactions - 2);
  expect(txs.length).toBe(outcome.committedTransactions);

  // LSNs strictly increase, within and across transactions and segments.
  let last = 0;
  for (const tx of txs) {
    expect(tx.beginLsn).toBeGreaterThan(last);
    expect(tx.commitLsn).toBeGreaterThan(tx.beginLsn);
    expect(tx.events.length).toBeGreaterThan(0);
    last = tx.commitLsn;
  }
  expect(outcome.maxLsn).toBeGreaterThanOrEqual(last);
  for (const [i, s] of outcome.segments.entries()) {
    expect(s.firstLsn).toBeGreaterThanOrEqual(s.baseLsn);
    const prev = outcome.segments[i - 1];
    if (prev !== undefined) expect(s.baseLsn).toBeGreaterThan(prev.lastLsn as number);
  }

  // Replay is read-only.
  expect(await fingerprint(fixture.walDir)).toEqual(before);

  // The model agrees with what LoraDB reported when it wrote the directory...
  expect(model.nodes.size).toBe(fixture.summary.nodes);
  expect(model.relationships.size).toBe(fixture.summary.relationships);

  // ...and with the engine reopening the same directory: counts, every id, label and property value.
  const db = await openWalDatabase({ walDir: fixture.walDir });
  try {
    expect(await db.nodeCount()).toBe(model.nodes.size);
    expect(await db.relationshipCount()).toBe(model.relationships.size);
    expect(await readLoraGraph(db)).toEqual(model.snapshot());
    // A `__proto__` map key survives the WAL (lora-node drops it from result objects, so ask Cypher).
    const proto = await db.execute("MATCH (n:Maps) RETURN keys(n.proto) AS k, n.proto['__proto__'] AS v");
    expect(proto.rows).toEqual([{ k: ["__proto__"], v: 1 }]);
    expect(Object.keys(model.nodeWithLabel("Maps").properties.get("proto") as object)).toEqual(["__proto__"]);
    // The i64 extremes, exactly (lora-node returns Int as a JS number, so ask Cypher for the text).
    const ints = model.nodeWithLabel("Ints").properties;
    expect(ints.get("max")).toBe(9223372036854775807n);
    expect(ints.get("min")).toBe(-9223372036854775808n);
    expect(await loraPropertyText(db, "Ints", ["max", "min"])).toEqual([
      String(ints.get("max")),
      String(ints.get("min")),
    ]);
    // Edited properties landed where Cypher sees them.
    const alice = await db.execute(
      "MATCH (n:Person:Admin {name: 'alice'})-[r:KNOWS]->() RETURN n.age AS age, r.w AS w",
    );
    expect(alice.rows).toEqual([{ age: 43, w: 0.75 }]);
    const modelAlice = [...model.nodes.values()].find((n) => n.properties.get("name") === "alice");
    expect(modelAlice?.properties.get("age")).toBe(43n);
    expect(modelAlice?.labels).toEqual(new Set(["Person", "Admin"]));
  } finally {
    db.dispose();
  }
  return r;
}

async function fixture(options: Omit<LoraFixtureOptions, "walDir">): Promise<LoraFixtureResult> {
  return writeLoraFixture({ walDir: join(tmp.path, "wal"), ...options });
}

describe("replaying LoraDB-written directories", () => {
  it("the standard fixture: every mutation type, one segment, the same graph as the engine", async () => {
    const f = await fixture({});
    expect(f.segments).toEqual(["0000000001.wal"]);
    const { model, outcome } = await replayAndCompare(f);
    expect(outcome.checkpointLsnObserved).toBeNull();
    expect(outcome.segments[0]?.baseLsn).toBe(1);
    expect(outcome.segments[0]?.sealed).toBe(false);
    for (const type of MUTATION_EVENT_TYPES) {
      expect(model.applied.get(type), type).toBeGreaterThan(0);
    }
  });

  it("a multi-segment directory (> 8 MiB): every segment walked in order, the same graph as the engine", async () => {
    const f = await fixture({ bulkBytes: LORA_MULTI_SEGMENT_BYTES });
    expect(f.segments.length).toBeGreaterThanOrEqual(2);
    const { model, outcome } = await replayAndCompare(f);
    expect(outcome.segments.length).toBe(f.segments.length);
    // LoraDB seals every segment but the active one when it rotates.
    expect(outcome.segments.map((s) => s.sealed)).toEqual(f.segments.map((_, i) => i < f.segments.length - 1));
    expect(outcome.segments.reduce((n, s) => n + s.fileSize, 0)).toBeGreaterThanOrEqual(LORA_MULTI_SEGMENT_BYTES);
    const bulk = [...model.nodes.values()].filter((n) => n.labels.has("Bulk")).length;
    expect(bulk % 1000).toBe(0);
    expect(bulk).toBeGreaterThan(8000);
  });

  it("a directory with managed snapshots: checkpoint markers observed at the engine's snapshot LSN", async () => {
    const snapshotDir = join(tmp.path, "snapshots");
    const f = await fixture({ snapshotDir, snapshotEveryCommits: 10 });
    const full = await replayAndCompare(f);

    // The newest managed snapshot, as LoraDB itself describes it.
    const snapshots = (await readdir(snapshotDir)).filter((n) => n.endsWith(".lsnap")).sort();
    expect(snapshots.length).toBeGreaterThan(0);
    const newest = snapshots.at(-1) as string;
    const mem = await createDatabase();
    let walLsn: number | null;
    try {
      const meta = await mem.loadSnapshot(join(snapshotDir, newest));
      walLsn = meta.walLsn;
    } finally {
      mem.dispose();
    }
    expect(walLsn).not.toBeNull();
    expect(newest).toBe(`snapshot-${String(walLsn).padStart(20, "0")}.lsnap`);
    expect(full.outcome.checkpointLsnObserved).toBe(walLsn);

    // Replaying above the snapshot's fence yields exactly the transactions that committed after it; the newest
    // marker lies above the fence (it is written after the snapshot), so it is still observed.
    const fenced = await replay(f.walDir, walLsn as number);
    expect(fenced.outcome.tornTail).toBeNull();
    expect(fenced.outcome.maxLsn).toBe(full.outcome.maxLsn);
    expect(fenced.outcome.checkpointLsnObserved).toBe(walLsn);
    expect(fenced.txs).toEqual(full.txs.filter((tx) => tx.beginLsn > (walLsn as number)));
    // No transaction straddles the fence: LoraDB checkpoints at transaction boundaries.
    expect(full.txs.some((tx) => tx.beginLsn <= (walLsn as number) && tx.commitLsn > (walLsn as number))).toBe(false);
  });

  it("a property-type constraint whose lists nest 60 deep, as a query writes it: replayed whole", async () => {
    // Each List term is 2 bytes on the wire and a 48-byte object decoded; this payload used to pass the decoder's
    // heap budget and the directory was refused as written with another codec.
    const walDir = join(tmp.path, "wal");
    const depth = 60;
    // Every level's elements are NOT NULL (the flag sits on the List term; the outermost type itself takes none).
    const type = `${"LIST<".repeat(depth)}INTEGER NOT NULL${"> NOT NULL".repeat(depth - 1)}>`;
    const db = await openWalDatabase({ walDir });
    try {
      await db.execute(`CREATE CONSTRAINT deep FOR (n:P) REQUIRE n.x IS :: ${type}`);
      await db.sync();
    } finally {
      db.dispose();
    }
    const { txs } = await replay(walDir);
    const created = txs.flatMap((tx) => tx.events).find((e) => e.type === "CreateConstraint");
    if (created?.type !== "CreateConstraint" || created.request.kind !== "PropertyType") {
      throw new Error(`no property-type constraint replayed: ${JSON.stringify(created, (_, v) => String(v))}`);
    }
    let term = created.request.alternatives[0];
    const notNull: boolean[] = [];
    while (term?.type === "List") {
      notNull.push(term.notNull);
      term = term.inner;
    }
    expect(notNull).toEqual(new Array<boolean>(depth).fill(true));
    expect(term).toEqual({ type: "Scalar", scalar: "Integer" });
  });
});
