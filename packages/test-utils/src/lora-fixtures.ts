/**
 * LoraDB-written WAL fixtures: drives the real engine (`@loradb/lora-node` 0.15.0) through a fixed Cypher script so
 * tests can read, decode and replay a WAL directory that LoraDB itself produced.
 *
 * Statements LoraDB 0.15.0 rejected when this script was written (so they are not in it):
 * - the `vector([1,2,3], 3, FLOAT32)` function (`unknown function vector`); the `[..]::VECTOR<T>(n)` cast works for
 *   every coordinate type (FLOAT64/FLOAT, FLOAT32, INTEGER/INT64/INT, INT32, INT16, INT8);
 * - the literal `-9223372036854775808` (the positive part overflows; `-9223372036854775807 - 1` works);
 * - `bigint` query parameters ("Unknown JS variables cannot be represented as a serde_json::Value");
 * - `CREATE LOOKUP INDEX … ON EACH labels(n)` / `type(r)` (parse error);
 * - an unnamed `CREATE CONSTRAINT FOR …` (parse error; unnamed `CREATE INDEX FOR …` works).
 * Constraints are checked against existing data (a NODE KEY on a label whose nodes lack the keys fails), so key
 * constraints target labels and types with no data.
 * - NaN and ±Infinity are unreachable: `0.0/0.0`, `1.0/0.0`, `toFloat('NaN')`, `1e308*10` all yield null (so the
 *   Floats node stores null for them, which LoraDB drops or logs as Null); `sqrt`, `log`, `exp` are unknown functions;
 * - `localtime('…')`, `time('…')` return null and their map forms return the current datetime, and
 *   `localdatetime('…')` returns a DateTime: Time/LocalTime/LocalDateTime values come from the driver's `time()`,
 *   `localtime()`, `localdatetime()` parameter helpers instead;
 * - a `Uint8Array` (or `Buffer`) parameter is not binary (it becomes a map or is refused): binary values come
 *   from the driver's `binary(segments)` helper.
 * Map-valued properties and -0.0 are accepted.
 */

import { mkdir, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { binary, localdatetime, localtime, openWalDatabase, time } from "@loradb/lora-node";

/** Options of {@link writeLoraFixture}. */
export interface LoraFixtureOptions {
  /** The WAL directory LoraDB writes (created if missing). Should be empty. */
  readonly walDir: string;
  /** Managed snapshot directory. With {@link snapshotEveryCommits} LoraDB writes Checkpoint (kind 5) records. */
  readonly snapshotDir?: string;
  /**
   * Checkpoint after this many committed transactions (needs {@link snapshotDir}).
   * @default undefined (no automatic checkpoints)
   */
  readonly snapshotEveryCommits?: number;
  /**
   * After the feature script, add `:Bulk` nodes (about 1 KiB each, committed 1000 per transaction) until the WAL
   * directory holds at least this many bytes. LoraDB rotates segments at 8 MiB, so `LORA_MULTI_SEGMENT_BYTES` gives
   * two or more segment files.
   * @default 0 (no bulk data)
   */
  readonly bulkBytes?: number;
}

/** Graph counts read back through Cypher, for comparing with a replay. */
export interface LoraGraphSummary {
  readonly nodes: number;
  readonly relationships: number;
}

/** What {@link writeLoraFixture} produced. */
export interface LoraFixtureResult {
  readonly walDir: string;
  readonly snapshotDir: string | undefined;
  /** Segment file names in the WAL dir (`0000000001.wal`, …), sorted. The dir also holds `.lora-wal.lock`. */
  readonly segments: readonly string[];
  /** The Cypher statements executed, in order (each one is one committed transaction). */
  readonly statements: readonly string[];
  /**
   * Transactions run (statements, bulk batches and the `clear()` call). A transaction that changed nothing (the
   * `IF EXISTS` drops of missing names) writes no records, so the WAL holds at most this many TxCommit records.
   */
  readonly transactions: number;
  /** Node and relationship counts at the end, from `MATCH … RETURN count(…)`. */
  readonly summary: LoraGraphSummary;
}

/** Bytes of WAL that make LoraDB rotate at least once (its segment target is 8 MiB). */
export const LORA_MULTI_SEGMENT_BYTES = 9 * 1024 * 1024;

/**
 * The fixture script. Every mutation tag appears: CreateNode, CreateRelationship, Set/RemoveNodeProperty,
 * Add/RemoveNodeLabel, Set/RemoveRelationshipProperty, DeleteRelationship, DeleteNode, DetachDeleteNode (Clear comes
 * from `db.clear()` first), CreateIndex/DropIndex and CreateConstraint/DropConstraint.
 */
export const LORA_FIXTURE_STATEMENTS: readonly string[] = [
  // Values of every type LoraDB can store.
  "CREATE (n:Ints {max: 9223372036854775807, min: -9223372036854775807 - 1, zero: 0, neg: -1})",
  "CREATE (n:Floats {nan: 0.0/0.0, inf: 1.0/0.0, ninf: -1.0/0.0, negzero: -0.0, pi: 3.141592653589793})",
  "CREATE (n:Strings {ascii: 'hello', unicode: 'h\u00e9llo \u{1F600} \uE000', empty: ''})",
  "CREATE (n:Temporal {d: date('2026-04-27'), dt: datetime('2026-04-27T12:34:56.789+02:00'), " +
    "lt: localtime('12:34:56.123456789'), t: time('12:34:56+01:00'), ldt: localdatetime('2026-04-27T12:34:56'), " +
    "dur: duration('P1Y2M3DT4H5M6.007S')})",
  "CREATE (n:Points {cart2: point({x: 1.5, y: 2.5}), cart3: point({x: 1.5, y: 2.5, z: 3.5}), " +
    "geo: point({latitude: 52.37, longitude: 4.9}), geo3: point({latitude: 52.37, longitude: 4.9, height: 10})})",
  "CREATE (n:Vectors {f64: [1.5, 2, -3]::VECTOR<FLOAT64>(3), f32: [1.5, 2, -3]::VECTOR<FLOAT32>(3), " +
    "i64: [1, 2, -3]::VECTOR<INTEGER>(3), i32: [1, 2, -3]::VECTOR<INT32>(3), i16: [1, 2, -3]::VECTOR<INT16>(3), " +
    "i8: [1, 2, -3]::VECTOR<INT8>(3)})",
  "CREATE (n:Lists {mixed: [1, 'a', true, null, 2.5], nested: [[1, 2], [3]], empty: []})",
  "CREATE (n:Maps {m: {b: {c: 'x', d: [1, 2]}, a: 1}, proto: {`__proto__`: 1}})",
  "CREATE (n:Binary {b: $bin, empty: $empty})",
  "CREATE (n:ParamTemporal {t: $time, lt: $localtime, ldt: $localdatetime})",
  // Relationships, labels and property changes.
  "CREATE (a:Person {name: 'alice', age: 42, score: 1.5})-[:KNOWS {since: 2020, w: 0.5}]->(b:Person {name: 'bob'})",
  "CREATE (c:Person {name: 'carol'})-[:KNOWS]->(d:Person {name: 'dave'})",
  "CREATE (e:Person {name: 'erin'})-[:KNOWS]->(f:Person {name: 'frank'})",
  "MATCH (n:Person {name: 'alice'}) SET n:Admin",
  "MATCH (n:Person {name: 'bob'}) SET n:Temp",
  "MATCH (n:Person {name: 'bob'}) REMOVE n:Temp",
  "MATCH (n:Person {name: 'alice'}) SET n.age = 43, n.tags = ['x', 'y']",
  "MATCH (n:Person {name: 'alice'}) REMOVE n.score",
  "MATCH (:Person {name: 'alice'})-[r:KNOWS]->() SET r.w = 0.75",
  "MATCH (:Person {name: 'alice'})-[r:KNOWS]->() REMOVE r.since",
  // Deletes.
  "MATCH (:Person {name: 'carol'})-[r:KNOWS]->() DELETE r",
  "MATCH (n:Person {name: 'dave'}) DELETE n",
  "MATCH (n:Person {name: 'erin'}) DETACH DELETE n",
  // Index and constraint DDL.
  "CREATE INDEX person_name FOR (n:Person) ON (n.name)",
  "CREATE INDEX knows_w IF NOT EXISTS FOR ()-[r:KNOWS]-() ON (r.w)",
  "CREATE INDEX FOR (n:Person) ON (n.age, n.score)",
  "CREATE TEXT INDEX person_text FOR (n:Person) ON (n.name)",
  "CREATE POINT INDEX points_geo FOR (n:Points) ON (n.geo)",
  "CREATE VECTOR INDEX vec_idx FOR (n:Vectors) ON (n.f32) " +
    "OPTIONS {indexConfig: {`vector.dimensions`: 3, `vector.similarity_function`: 'cosine'}}",
  "CREATE FULLTEXT INDEX ft_idx FOR (n:Person|Admin) ON EACH [n.name, n.nick]",
  "DROP INDEX person_name",
  "DROP INDEX no_such_index IF EXISTS",
  "CREATE CONSTRAINT person_unique FOR (n:Person) REQUIRE n.name IS UNIQUE",
  "CREATE CONSTRAINT person_exists FOR (n:Person) REQUIRE n.name IS NOT NULL",
  "CREATE CONSTRAINT person_age_int FOR (n:Person) REQUIRE n.age IS :: INTEGER",
  "CREATE CONSTRAINT person_tags FOR (n:Person) REQUIRE n.tags IS :: LIST<STRING NOT NULL>",
  "CREATE CONSTRAINT person_union FOR (n:Person) REQUIRE n.nick IS :: INTEGER | STRING",
  "CREATE CONSTRAINT person_vec FOR (n:Person) REQUIRE n.emb IS :: VECTOR<FLOAT32>(3)",
  "CREATE CONSTRAINT keyed_key FOR (n:Keyed) REQUIRE (n.k1, n.k2) IS NODE KEY",
  "CREATE CONSTRAINT link_key FOR ()-[r:LINK]-() REQUIRE r.k IS RELATIONSHIP KEY",
  "CREATE CONSTRAINT link_exists FOR ()-[r:LINK]-() REQUIRE r.w IS NOT NULL",
  "DROP CONSTRAINT person_unique",
  "DROP CONSTRAINT no_such_constraint IF EXISTS",
];

const PARAMS = {
  bin: binary([
    [0, 1, 2],
    [3, 4, 255],
  ]),
  empty: binary([]),
  time: time("12:34:56.789+01:00"),
  localtime: localtime("12:34:56.123456789"),
  localdatetime: localdatetime("2026-04-27T12:34:56.5"),
};

async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(dir)) {
    if (name.endsWith(".wal")) total += (await stat(join(dir, name))).size;
  }
  return total;
}

/** Node and relationship counts of an open LoraDB database, through Cypher. */
export async function loraGraphSummary(db: {
  execute(query: string): Promise<{ rows: Record<string, unknown>[] }>;
}): Promise<LoraGraphSummary> {
  const nodes = await db.execute("MATCH (n) RETURN count(n) AS c");
  const rels = await db.execute("MATCH ()-[r]->() RETURN count(r) AS c");
  return { nodes: Number(nodes.rows[0]?.c), relationships: Number(rels.rows[0]?.c) };
}

/**
 * Write a LoraDB WAL directory: a throw-away node and `clear()` (a Clear event), then
 * {@link LORA_FIXTURE_STATEMENTS} one transaction each, then optional bulk data; then sync and dispose, which
 * releases `.lora-wal.lock`. Every transaction is a TxBegin + one MutationBatch (kind 6) + TxCommit triple.
 *
 * @throws when LoraDB rejects a statement (the message names it).
 * @example
 * ```ts
 * const { path, cleanup } = await makeTempDir();
 * const fixture = await writeLoraFixture({ walDir: join(path, "wal") });
 * ```
 */
export async function writeLoraFixture(options: LoraFixtureOptions): Promise<LoraFixtureResult> {
  await mkdir(options.walDir, { recursive: true });
  if (options.snapshotDir !== undefined) await mkdir(options.snapshotDir, { recursive: true });
  const db = await openWalDatabase({
    walDir: options.walDir,
    ...(options.snapshotDir === undefined ? {} : { snapshotDir: options.snapshotDir }),
    ...(options.snapshotEveryCommits === undefined ? {} : { snapshotEveryCommits: options.snapshotEveryCommits }),
  });
  const statements: string[] = [];
  let transactions = 0;
  const run = async (query: string, params?: Record<string, unknown>) => {
    try {
      await db.execute(query, params as never);
    } catch (cause) {
      throw new Error(`LoraDB rejected fixture statement: ${query}`, { cause });
    }
    statements.push(query);
    transactions++;
  };
  try {
    await run("CREATE (:Scratch {gone: true})");
    await db.clear();
    transactions++;
    for (const query of LORA_FIXTURE_STATEMENTS) await run(query, query.includes("$") ? PARAMS : undefined);
    const bulkBytes = options.bulkBytes ?? 0;
    if (bulkBytes > 0) {
      const pad = "x".repeat(1000);
      let batch = 0;
      while ((await dirBytes(options.walDir)) < bulkBytes) {
        await run("UNWIND range(1, 1000) AS i CREATE (:Bulk {batch: $batch, i: i, pad: $pad})", { batch, pad });
        batch++;
      }
    }
    const summary = await loraGraphSummary(db);
    await db.sync();
    db.dispose();
    const segments = (await readdir(options.walDir)).filter((n) => n.endsWith(".wal")).sort();
    return { walDir: options.walDir, snapshotDir: options.snapshotDir, segments, statements, transactions, summary };
  } finally {
    db.dispose();
  }
}
