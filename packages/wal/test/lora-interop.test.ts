/**
 * Interop of the handle with the real engine (`@loradb/lora-node` 0.15.0), both ways:
 * - a graph written here with `loraCodec` opens in LoraDB and Cypher returns the same graph (one segment, many
 *   segments, and after our open cut a torn tail);
 * - a directory LoraDB wrote (rotated, with checkpoint markers) opens here, takes more commits, and LoraDB reopens it
 *   showing both;
 * - the two exclude each other through `.lora-wal.lock`;
 * - segments are byte-identical to LoraDB's for the same transactions.
 */

import { open, readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { GraphModel, loraPropertyText, readLoraGraph } from "@lora/test-lora-graph";
import { LORA_MULTI_SEGMENT_BYTES, makeTempDir, writeLoraFixture } from "@lora/test-utils";
import { isWalError } from "@lora/wal-codec";
import {
  createPropertyMap,
  LoraBinary,
  LoraDate,
  LoraDateTime,
  LoraDuration,
  LoraLocalDateTime,
  LoraLocalTime,
  LoraPoint,
  LoraTime,
  LoraVector,
  loraCodec,
  MUTATION_EVENT_TYPES,
  type MutationEvent,
  type PropertyMap,
  type PropertyValue,
} from "@lora/wal-codec/lora";
import { replayDir } from "@lora/wal-replay";
import { binary, localdatetime, localtime, openWalDatabase, time } from "@loradb/lora-node";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Wal } from "../src/index.js";

let tmp: Awaited<ReturnType<typeof makeTempDir>>;
let dir: string;
beforeEach(async () => {
  tmp = await makeTempDir("wal-lora-interop");
  dir = join(tmp.path, "wal");
});
afterEach(async () => {
  await tmp.cleanup();
});

function props(entries: Record<string, PropertyValue>): PropertyMap {
  const map = createPropertyMap();
  for (const [k, v] of Object.entries(entries)) map[k] = v;
  return map;
}

const node = (id: bigint, labels: string[], properties: Record<string, PropertyValue> = {}): MutationEvent => ({
  type: "CreateNode",
  id,
  labels,
  properties: props(properties),
});

const rel = (
  id: bigint,
  src: bigint,
  dst: bigint,
  relType: string,
  properties: Record<string, PropertyValue> = {},
): MutationEvent => ({ type: "CreateRelationship", id, src, dst, relType, properties: props(properties) });

const I64_MAX = 9223372036854775807n;
const I64_MIN = -9223372036854775808n;

// A null-prototype map, so `__proto__` is an ordinary own key.
const protoMap = createPropertyMap();
Object.defineProperty(protoMap, "__proto__", { value: 1n, enumerable: true, writable: true, configurable: true });

/** A graph with every value kind LoraDB can read back, relationships, label and property edits, and deletes. */
const GRAPH: readonly MutationEvent[][] = [
  [{ type: "Clear" }],
  [
    node(0n, ["Ints"], { max: I64_MAX, min: I64_MIN, zero: 0n, neg: -1n, small: 42n }),
    node(1n, ["Floats"], {
      pi: Math.PI,
      negzero: -0,
      big: Number.MAX_VALUE,
      tiny: Number.MIN_VALUE,
      nan: Number.NaN,
      inf: Number.POSITIVE_INFINITY,
      ninf: Number.NEGATIVE_INFINITY,
    }),
    node(2n, ["Strings"], { ascii: "hello", unicode: "h\u00e9llo \u{1F600} \uE000", empty: "", t: true, f: false }),
    node(3n, ["Lists"], { mixed: [1n, "a", true, null, 2.5], nested: [[1n, 2n], [3n]], empty: [] }),
    node(4n, ["Maps"], { m: props({ b: props({ c: "x", d: [1n, 2n] }), a: 1n }), proto: protoMap }),
    node(5n, ["Temporal"], {
      d: new LoraDate(2026, 4, 27),
      dt: new LoraDateTime(2026, 4, 27, 12, 34, 56, 789_000_000, 7200),
      ldt: new LoraLocalDateTime(2026, 4, 27, 12, 34, 56, 500_000_000),
      t: new LoraTime(12, 34, 56, 789_000_000, 3600),
      lt: new LoraLocalTime(12, 34, 56, 123_456_789),
      // Half a second: LoraDB parses `duration('…6.007S')` through a float and stores 6_999_999 ns, so a fraction
      // that binary floating point holds exactly keeps the engine-side comparison below meaningful.
      dur: new LoraDuration(14n, 3n, 4n * 3600n + 5n * 60n + 6n, 500_000_000n),
    }),
    node(6n, ["Points"], {
      cart2: new LoraPoint(1.5, 2.5, undefined, 7203),
      cart3: new LoraPoint(1.5, 2.5, 3.5, 9157),
      geo: new LoraPoint(4.9, 52.37, undefined, 4326),
      geo3: new LoraPoint(4.9, 52.37, 10, 4979),
    }),
    node(7n, ["Vectors"], {
      f64: new LoraVector(new Float64Array([1.5, 2, -3])),
      f32: new LoraVector(new Float32Array([1.5, 2, -3])),
      i64: new LoraVector(new BigInt64Array([1n, 2n, -3n])),
      i32: new LoraVector(new Int32Array([1, 2, -3])),
      i16: new LoraVector(new Int16Array([1, 2, -3])),
      i8: new LoraVector(new Int8Array([1, 2, -3])),
    }),
    node(8n, ["Binary"], {
      b: new LoraBinary([new Uint8Array([0, 1, 2]), new Uint8Array([3, 4, 255])]),
      empty: new LoraBinary([]),
    }),
    // Id 9 is skipped: LoraDB replays with the logged ids, gaps included.
    node(10n, ["Person"], { name: "alice" }),
    node(11n, ["Person"], { name: "bob", nothing: null }),
    node(12n, ["Person"], { name: "carol" }),
    node(13n, ["Person"], { name: "dave" }),
    node(14n, ["Person"], { name: "erin" }),
  ],
  [
    rel(0n, 10n, 11n, "KNOWS", { since: 2020n, w: 0.5 }),
    rel(1n, 12n, 13n, "KNOWS"),
    rel(2n, 13n, 14n, "LIKES"),
    rel(5n, 14n, 10n, "KNOWS", { tag: "gap" }),
  ],
  [
    { type: "SetNodeProperty", nodeId: 10n, key: "age", value: 43n },
    { type: "SetNodeProperty", nodeId: 10n, key: "tags", value: ["x", "y"] },
    { type: "SetNodeProperty", nodeId: 11n, key: "score", value: 1.5 },
    { type: "RemoveNodeProperty", nodeId: 11n, key: "score" },
    { type: "AddNodeLabel", nodeId: 10n, label: "Admin" },
    { type: "AddNodeLabel", nodeId: 11n, label: "Temp" },
    { type: "RemoveNodeLabel", nodeId: 11n, label: "Temp" },
    { type: "SetRelationshipProperty", relId: 0n, key: "w", value: 0.75 },
    { type: "RemoveRelationshipProperty", relId: 0n, key: "since" },
  ],
  [
    { type: "DeleteRelationship", relId: 1n },
    { type: "DeleteNode", nodeId: 12n },
    // Relationship 2 is still attached: DETACH DELETE takes it along.
    { type: "DetachDeleteNode", nodeId: 13n },
  ],
  [
    {
      type: "CreateIndex",
      request: {
        explicitName: "person_name",
        kind: "Range",
        entity: "Node",
        label: "Person",
        additionalLabels: [],
        properties: ["name"],
        options: createPropertyMap() as never,
      },
      ifNotExists: false,
    },
    { type: "DropIndex", name: "no_such_index", ifExists: true },
  ],
];

async function commitAll(wal: Wal, txs: readonly (readonly MutationEvent[])[]): Promise<void> {
  for (const events of txs) expect(await wal.commitTx(events)).not.toBeNull();
}

async function withLora<T>(walDir: string, work: (db: Awaited<ReturnType<typeof openWalDatabase>>) => Promise<T>) {
  const db = await openWalDatabase({ walDir });
  try {
    return await work(db);
  } finally {
    db.dispose();
  }
}

async function segmentNames(walDir: string): Promise<string[]> {
  return (await readdir(walDir)).filter((n) => n.endsWith(".wal")).sort();
}

/** Everything replay reads from `walDir` now, applied to a fresh model. */
async function replayModel(walDir: string): Promise<{ model: GraphModel; events: MutationEvent[] }> {
  const model = new GraphModel();
  const events: MutationEvent[] = [];
  for await (const tx of replayDir(walDir, { codec: loraCodec })) {
    model.applyAll(tx.events);
    events.push(...tx.events);
  }
  return { model, events };
}

describe("a graph written here opens in LoraDB", () => {
  it("shows the same graph: ids, labels, every value kind, edits and deletes", async () => {
    const { wal } = await Wal.open(dir);
    await commitAll(wal, GRAPH);
    await wal.close();
    const model = new GraphModel().applyAll(GRAPH.flat());

    const newId = await withLora(dir, async (db) => {
      expect(await db.nodeCount()).toBe(model.nodes.size);
      expect(await db.relationshipCount()).toBe(model.relationships.size);
      expect(await readLoraGraph(db)).toEqual(model.snapshot());

      // Values the comparable shape cannot carry exactly, checked by the engine itself: equality with values it
      // builds from Cypher literals or driver parameters.
      expect(await loraPropertyText(db, "Ints", ["max", "min"])).toEqual([String(I64_MAX), String(I64_MIN)]);
      const checks: Record<string, string> = {
        max: "i.max = 9223372036854775807",
        min: "i.min = -9223372036854775807 - 1",
        d: "t.d = date('2026-04-27')",
        dt: "t.dt = datetime('2026-04-27T12:34:56.789+02:00')",
        ldt: "t.ldt = $ldt",
        tm: "t.t = $time",
        lt: "t.lt = $lt",
        dur: "t.dur = duration('P1Y2M3DT4H5M6.5S')",
        durNot: "t.dur <> duration('P1Y2M3DT4H5M6S')",
        cart2: "p.cart2 = point({x: 1.5, y: 2.5})",
        cart3: "p.cart3 = point({x: 1.5, y: 2.5, z: 3.5})",
        geo: "p.geo = point({latitude: 52.37, longitude: 4.9})",
        geo3: "p.geo3 = point({latitude: 52.37, longitude: 4.9, height: 10})",
        f64: "v.f64 = [1.5, 2, -3]::VECTOR<FLOAT64>(3)",
        f32: "v.f32 = [1.5, 2, -3]::VECTOR<FLOAT32>(3)",
        i64: "v.i64 = [1, 2, -3]::VECTOR<INTEGER>(3)",
        i8: "v.i8 = [1, 2, -3]::VECTOR<INT8>(3)",
        bin: "b.b = $bin",
        binOneSegment: "b.b = $binFlat",
        map: "m.m = {a: 1, b: {c: 'x', d: [1, 2]}}",
        nested: "l.nested = [[1, 2], [3]]",
      };
      const result = await db.execute(
        "MATCH (i:Ints), (t:Temporal), (p:Points), (v:Vectors), (b:Binary), (m:Maps), (l:Lists) RETURN " +
          Object.entries(checks)
            .map(([k, expr]) => `${expr} AS ${k}`)
            .join(", "),
        {
          ldt: localdatetime("2026-04-27T12:34:56.5"),
          time: time("12:34:56.789+01:00"),
          lt: localtime("12:34:56.123456789"),
          bin: binary([
            [0, 1, 2],
            [3, 4, 255],
          ]),
          binFlat: binary([[0, 1, 2, 3, 4, 255]]),
        },
      );
      expect(result.rows).toEqual([Object.fromEntries(Object.keys(checks).map((k) => [k, true]))]);

      const temporal = await db.execute(
        "MATCH (t:Temporal) RETURN toString(t.dt) AS dt, toString(t.ldt) AS ldt, toString(t.t) AS t, toString(t.lt) AS lt",
      );
      expect(temporal.rows).toEqual([
        {
          dt: "2026-04-27T12:34:56.789+02:00",
          ldt: "2026-04-27T12:34:56.500",
          t: "12:34:56.789+01:00",
          lt: "12:34:56.123456789",
        },
      ]);
      // Non-finite floats and -0 come back as written when returned directly.
      const floats = await db.execute(
        "MATCH (f:Floats) RETURN f.nan AS nan, f.inf AS inf, f.ninf AS ninf, f.negzero AS negzero, f.tiny AS tiny",
      );
      const row = floats.rows[0] as Record<string, number>;
      expect(row.nan).toBeNaN();
      expect(row.inf).toBe(Number.POSITIVE_INFINITY);
      expect(row.ninf).toBe(Number.NEGATIVE_INFINITY);
      expect(Object.is(row.negzero, -0)).toBe(true);
      expect(row.tiny).toBe(Number.MIN_VALUE);
      const proto = await db.execute("MATCH (m:Maps) RETURN keys(m.proto) AS k, m.proto['__proto__'] AS v");
      expect(proto.rows).toEqual([{ k: ["__proto__"], v: 1 }]);
      // The index we logged exists: creating it again without IF NOT EXISTS fails.
      await expect(db.execute("CREATE INDEX person_name FOR (n:Person) ON (n.name)")).rejects.toThrow(/same name/);

      // LoraDB allocates new ids above every id we used (created-then-deleted ones included).
      const created = await db.execute("CREATE (n:FromLora) RETURN id(n) AS id");
      return created.rows[0]?.id as number;
    });
    expect(newId).toBeGreaterThan(Number(model.maxNodeId()));

    // And our side reads LoraDB's append back.
    const { wal: again, events } = await Wal.open(dir);
    await again.close();
    expect(events.length).toBe(GRAPH.flat().length + 1);
    expect(events.at(-1)).toMatchObject({ type: "CreateNode", id: BigInt(newId), labels: ["FromLora"] });
  });

  it("spans many segments (4 KiB target) and LoraDB appends to our active segment", async () => {
    const txs: MutationEvent[][] = [];
    for (let i = 0; i < 80; i++) {
      const id = BigInt(i);
      const events = [node(id, ["Chain"], { i: id, pad: "x".repeat(200) })];
      if (i > 0) events.push(rel(id - 1n, id - 1n, id, "NEXT", { i: id }));
      txs.push(events);
    }
    const { wal } = await Wal.open(dir, { segmentTargetBytes: 4096 });
    await commitAll(wal, txs);
    await wal.close();
    const segments = await segmentNames(dir);
    expect(segments.length).toBeGreaterThanOrEqual(5);
    const model = new GraphModel().applyAll(txs.flat());

    await withLora(dir, async (db) => {
      expect(await readLoraGraph(db)).toEqual(model.snapshot());
      const sum = await db.execute("MATCH (n:Chain) RETURN sum(n.i) AS s");
      expect(sum.rows).toEqual([{ s: (79 * 80) / 2 }]);
      const path = await db.execute("MATCH p = (:Chain {i: 0})-[:NEXT*]->(:Chain {i: 79}) RETURN length(p) AS len");
      expect(path.rows).toEqual([{ len: 79 }]);
      await db.execute("CREATE (:FromLora {n: 1})");
    });
    // LoraDB never rotates below 8 MiB, so its transaction went into our last segment.
    expect(await segmentNames(dir)).toEqual(segments);

    // Round trip once more: open here, commit (rotating again), LoraDB sees all of it.
    const reopened = await Wal.open(dir, { segmentTargetBytes: 4096 });
    expect(reopened.tornTail).toBeNull();
    expect(reopened.events.at(-1)).toMatchObject({ type: "CreateNode", labels: ["FromLora"] });
    model.applyAll(reopened.events.slice(txs.flat().length));
    const ours = [node(1000n, ["Tail"], { pad: "y".repeat(5000) }), node(1001n, ["Tail"])];
    await commitAll(reopened.wal, [[ours[0] as MutationEvent], [ours[1] as MutationEvent]]);
    await reopened.wal.close();
    model.applyAll(ours);
    expect((await segmentNames(dir)).length).toBeGreaterThan(segments.length);
    await withLora(dir, async (db) => {
      expect(await readLoraGraph(db)).toEqual(model.snapshot());
    });
  });

  it("after our open cuts a torn tail, LoraDB opens the directory as is and shows the committed graph", async () => {
    const txs = [[node(0n, ["A"], { v: 1n })], [node(1n, ["A"], { v: 2n })], [node(2n, ["A"], { v: 3n })]];
    const { wal } = await Wal.open(dir);
    await commitAll(wal, txs);
    await wal.close();
    const segment = join(dir, "0000000001.wal");
    const full = (await stat(segment)).size;
    // Crash in the middle of writing the third transaction's TxCommit (25 bytes).
    const handle = await open(segment, "r+");
    await handle.truncate(full - 10);
    await handle.close();

    const opened = await Wal.open(dir);
    expect(opened.tornTail).not.toBeNull();
    expect(opened.tornTail?.offset).toBe(full - 25);
    expect(opened.healed.map((h) => h.kind)).toEqual(["tornTailTruncated"]);
    expect(opened.events).toEqual(txs.slice(0, 2).flat());
    await opened.wal.close();
    expect((await stat(segment)).size).toBe(full - 25);
    // Whatever we kept beside the log is not a segment LoraDB would list.
    expect(await segmentNames(dir)).toEqual(["0000000001.wal"]);

    await withLora(dir, async (db) => {
      // The uncommitted third transaction (TxBegin + batch, no commit) is discarded by LoraDB too.
      expect(await readLoraGraph(db)).toEqual(new GraphModel().applyAll(txs.slice(0, 2).flat()).snapshot());
    });
    // LoraDB found nothing more to cut.
    expect((await stat(segment)).size).toBe(full - 25);
  });
  it("a crash between sealing a segment and creating the next: LoraDB refuses the directory until Wal.open heals it", async () => {
    const txs = [[node(0n, ["A"], { v: 1n })], [node(1n, ["A"], { v: 2n })]];
    const { wal } = await Wal.open(dir);
    await commitAll(wal, txs);
    await wal.close();
    // What a crash right after rotation's seal leaves: the newest segment sealed, no successor.
    const { SegmentWriter } = await import("@lora/wal-segment");
    const sealing = await SegmentWriter.openForAppend(
      (await import("@lora/wal-segment")).createNodeFileSystem(),
      join(dir, "0000000001.wal"),
      (await stat(join(dir, "0000000001.wal"))).size,
    );
    await sealing.seal();
    await sealing.close();
    // LoraDB 0.15 does not open it (a sealed active segment); the README says so.
    const refused = await openWalDatabase({ walDir: dir }).then(
      (db) => {
        db.dispose();
        return null;
      },
      (error: unknown) => error,
    );
    expect(refused).not.toBeNull();
    // One Wal.open heals it (a successor segment is created), and LoraDB opens it from then on.
    const healed = await Wal.open(dir);
    expect(healed.healed.map((h) => h.kind)).toEqual(["sealedSegmentSucceeded"]);
    await healed.wal.close();
    await withLora(dir, async (db) => {
      expect(await readLoraGraph(db)).toEqual(new GraphModel().applyAll(txs.flat()).snapshot());
    });
  });
});

describe("a directory LoraDB wrote", () => {
  it("opens here (rotated, with checkpoint markers), takes our commits, and LoraDB reopens it with both", async () => {
    const snapshotDir = join(tmp.path, "snapshots");
    const fixture = await writeLoraFixture({
      walDir: dir,
      snapshotDir,
      snapshotEveryCommits: 10,
      bulkBytes: LORA_MULTI_SEGMENT_BYTES,
    });
    expect(fixture.segments.length).toBeGreaterThanOrEqual(2);
    // Nothing was truncated away, so a replay from the start is the whole history.
    expect(fixture.segments[0]).toBe("0000000001.wal");
    const expected = await replayModel(dir);

    const opened = await Wal.open(dir);
    expect(opened.tornTail).toBeNull();
    expect(opened.healed).toEqual([]);
    expect(opened.checkpointLsnObserved).not.toBeNull();
    expect(opened.replay?.segments.length).toBe(fixture.segments.length);
    expect(opened.replay?.committedTransactions).toBe(fixture.transactions - 2);
    expect(opened.events).toEqual(expected.events);
    const model = new GraphModel().applyAll(opened.events);
    expect(model.nodes.size).toBe(fixture.summary.nodes);
    expect(model.relationships.size).toBe(fixture.summary.relationships);
    // Every statement's kind of change is there (Clear from `db.clear()`; DDL from the index/constraint script).
    expect([...model.applied.keys()].sort()).toEqual([...MUTATION_EVENT_TYPES].sort());

    // Our commits: new nodes, a relationship into LoraDB's graph, edits of LoraDB's nodes.
    const alice = [...model.nodes].find(([, n]) => n.properties.get("name") === "alice")?.[0] as bigint;
    const bob = [...model.nodes].find(([, n]) => n.properties.get("name") === "bob")?.[0] as bigint;
    const maxRel = [...model.relationships.keys()].reduce((a, b) => (a > b ? a : b), -1n);
    const base = model.maxNodeId() + 1n;
    const ours: MutationEvent[][] = [
      [node(base, ["FromTs"], { max: I64_MAX, s: "ours" }), node(base + 1n, ["FromTs"], { s: "ours too" })],
      [rel(maxRel + 1n, alice, base, "MET", { at: new LoraDate(2026, 5, 1) })],
      [
        { type: "SetNodeProperty", nodeId: bob, key: "fromTs", value: true },
        { type: "AddNodeLabel", nodeId: bob, label: "Touched" },
        { type: "DetachDeleteNode", nodeId: base + 1n },
      ],
    ];
    await commitAll(opened.wal, ours);
    expect(opened.wal.nextLsn()).toBe((opened.replay?.maxLsn ?? 0) + 1 + 3 * ours.length);
    await opened.wal.close();
    model.applyAll(ours.flat());

    // LoraDB reopens it: from the WAL alone (fence 0, the whole history)...
    await withLora(dir, async (db) => {
      expect(await db.nodeCount()).toBe(model.nodes.size);
      expect(await readLoraGraph(db)).toEqual(model.snapshot());
      expect(await loraPropertyText(db, "FromTs", ["max"])).toEqual([String(I64_MAX)]);
      const met = await db.execute(
        "MATCH (a {name: 'alice'})-[r:MET]->(b:FromTs) RETURN b.s AS s, toString(r.at) AS at",
      );
      expect(met.rows).toEqual([{ s: "ours", at: "2026-05-01" }]);
      const touched = await db.execute("MATCH (n:Touched) RETURN n.name AS name, n.fromTs AS fromTs");
      expect(touched.rows).toEqual([{ name: "bob", fromTs: true }]);
    });
    // ...and with its snapshots, where the newest snapshot is the fence and our records lie above it.
    const dbWithSnapshots = await openWalDatabase({ walDir: dir, snapshotDir });
    try {
      expect(await readLoraGraph(dbWithSnapshots)).toEqual(model.snapshot());
    } finally {
      dbWithSnapshots.dispose();
    }
  });
});

describe("mutual exclusion through the real APIs", () => {
  it("LoraDB cannot open a directory a Wal holds, and Wal.open rejects WAL_LOCKED while LoraDB holds it", async () => {
    const { wal } = await Wal.open(dir);
    await wal.commitTx([node(0n, ["Ours"])]);
    const started = performance.now();
    const refused = await openWalDatabase({ walDir: dir }).then(
      (db) => {
        db.dispose();
        return null;
      },
      (error: unknown) => error,
    );
    const ms = performance.now() - started;
    expect(refused).toMatchObject({
      code: "LORA_CONNECTION",
      message: "database connection is temporarily unavailable",
    });
    expect(ms).toBeGreaterThanOrEqual(90);
    await wal.close();

    const db = await openWalDatabase({ walDir: dir });
    try {
      expect(await db.nodeCount()).toBe(1);
      const locked = await Wal.open(dir).then(
        async (r) => {
          await r.wal.close();
          return null;
        },
        (error: unknown) => error,
      );
      expect(isWalError(locked, "WAL_LOCKED")).toBe(true);
    } finally {
      db.dispose();
    }

    const after = await Wal.open(dir);
    expect(after.events).toEqual([node(0n, ["Ours"])]);
    await after.wal.close();
  });
});

describe("byte compatibility", () => {
  it("commitTx([Clear]) into a new directory writes exactly the 120-byte segment of docs/format.md (d)", async () => {
    const { wal } = await Wal.open(dir);
    await wal.commitTx([{ type: "Clear" }]);
    await wal.close();
    const expected = Buffer.from(
      [
        "4c4f524157414c00 01000000 0100000000000000 00000000 00000000 e4165223",
        "19000000 02 0100000000000000 0000000000000000 d95c9cca",
        "26000000 06 0200000000000000 0100000000000000 4c573100 0100000000000000 0c 59957a99",
        "19000000 03 0300000000000000 0100000000000000 67b23006",
      ]
        .join("")
        .replaceAll(" ", ""),
      "hex",
    );
    expect(expected.length).toBe(120);
    expect((await readFile(join(dir, "0000000001.wal"))).equals(expected)).toBe(true);
  });

  it("writes the same segment bytes as LoraDB for the same transactions", async () => {
    const loraDir = join(tmp.path, "lora");
    await withLora(loraDir, async (db) => {
      await db.clear();
      await db.execute("CREATE (:Person {name: 'alice', age: 42})-[:KNOWS {w: 0.5}]->(:Person {name: 'bob'})");
      await db.execute("MATCH (n:Person {name: 'bob'}) SET n:Admin, n.tags = ['x'] REMOVE n.name");
      await db.execute("MATCH (n:Person {name: 'alice'}) DETACH DELETE n");
      await db.sync();
    });
    const lora = await readFile(join(loraDir, "0000000001.wal"));
    // Decode LoraDB's transactions, then commit the same events here.
    const txs: MutationEvent[][] = [];
    for await (const tx of replayDir(loraDir, { codec: loraCodec })) txs.push(tx.events);
    expect(txs.length).toBe(4);
    const { wal } = await Wal.open(dir);
    await commitAll(wal, txs);
    await wal.close();
    const ours = await readFile(join(dir, "0000000001.wal"));
    expect(ours.toString("hex")).toBe(lora.toString("hex"));
  });
});
