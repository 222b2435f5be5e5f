/**
 * Test support for interop with the real engine: a tiny in-memory graph that applies replayed LoraDB
 * `MutationEvent`s, and a way to read the same graph back out of an open LoraDB database so the two can be compared.
 *
 * Values are compared in the shape `@loradb/lora-node` returns them: Int and Float both become JavaScript numbers
 * (so i64 extremes lose precision on both sides alike: check those through Cypher's `toString`), temporal values
 * keep only their `kind` (plus the ISO text for dates, the one rendering that is unambiguous), points keep srid and
 * coordinates, vectors keep dimension, coordinate type and values, binaries keep their bytes. A map key `__proto__`
 * is left out (lora-node cannot return it).
 */

import {
  LoraBinary,
  LoraDate,
  LoraDateTime,
  LoraDuration,
  LoraFloat,
  LoraLocalDateTime,
  LoraLocalTime,
  LoraPoint,
  LoraTime,
  LoraVector,
  type MutationEvent,
  type PropertyMap,
  type PropertyValue,
} from "@lora/wal-codec/lora";

export interface ModelNode {
  readonly labels: Set<string>;
  readonly properties: Map<string, PropertyValue>;
}

export interface ModelRelationship {
  readonly src: bigint;
  readonly dst: bigint;
  readonly type: string;
  readonly properties: Map<string, PropertyValue>;
}

/**
 * Nodes and relationships by id, changed by applying events the way LoraDB's `replay_into` does: creates keep the
 * logged id, a change to a missing node or relationship is an error (so an out-of-order replay shows up), and
 * `DetachDeleteNode` of a missing node is a no-op. Index and constraint DDL only counts.
 */
export class GraphModel {
  readonly nodes = new Map<bigint, ModelNode>();
  readonly relationships = new Map<bigint, ModelRelationship>();
  readonly applied = new Map<MutationEvent["type"], number>();

  applyAll(events: Iterable<MutationEvent>): this {
    for (const event of events) this.apply(event);
    return this;
  }

  apply(event: MutationEvent): void {
    this.applied.set(event.type, (this.applied.get(event.type) ?? 0) + 1);
    switch (event.type) {
      case "CreateNode":
        if (this.nodes.has(event.id)) throw new Error(`CreateNode: node ${event.id} exists`);
        this.nodes.set(event.id, { labels: new Set(event.labels), properties: toMap(event.properties) });
        return;
      case "CreateRelationship":
        if (this.relationships.has(event.id)) throw new Error(`CreateRelationship: relationship ${event.id} exists`);
        this.node(event.src, event.type);
        this.node(event.dst, event.type);
        this.relationships.set(event.id, {
          src: event.src,
          dst: event.dst,
          type: event.relType,
          properties: toMap(event.properties),
        });
        return;
      case "SetNodeProperty":
        this.node(event.nodeId, event.type).properties.set(event.key, event.value);
        return;
      case "RemoveNodeProperty":
        this.node(event.nodeId, event.type).properties.delete(event.key);
        return;
      case "AddNodeLabel":
        this.node(event.nodeId, event.type).labels.add(event.label);
        return;
      case "RemoveNodeLabel":
        this.node(event.nodeId, event.type).labels.delete(event.label);
        return;
      case "SetRelationshipProperty":
        this.relationship(event.relId, event.type).properties.set(event.key, event.value);
        return;
      case "RemoveRelationshipProperty":
        this.relationship(event.relId, event.type).properties.delete(event.key);
        return;
      case "DeleteRelationship":
        this.relationship(event.relId, event.type);
        this.relationships.delete(event.relId);
        return;
      case "DeleteNode": {
        this.node(event.nodeId, event.type);
        const attached = this.incident(event.nodeId);
        if (attached.length > 0) throw new Error(`DeleteNode: node ${event.nodeId} still has relationships`);
        this.nodes.delete(event.nodeId);
        return;
      }
      case "DetachDeleteNode":
        if (!this.nodes.has(event.nodeId)) return;
        for (const id of this.incident(event.nodeId)) this.relationships.delete(id);
        this.nodes.delete(event.nodeId);
        return;
      case "Clear":
        this.nodes.clear();
        this.relationships.clear();
        return;
      case "CreateIndex":
      case "DropIndex":
      case "CreateConstraint":
      case "DropConstraint":
        return;
    }
  }

  /** The highest node id used, or -1n. */
  maxNodeId(): bigint {
    let max = -1n;
    for (const id of this.nodes.keys()) if (id > max) max = id;
    return max;
  }

  /** The node carrying `label` (exactly one expected). */
  nodeWithLabel(label: string): ModelNode {
    const found = [...this.nodes.values()].filter((n) => n.labels.has(label));
    if (found.length !== 1) throw new Error(`expected one node labelled ${label}, found ${found.length}`);
    return found[0] as ModelNode;
  }

  /** The graph in the comparable shape of {@link readLoraGraph}. */
  snapshot(): ComparableGraph {
    return {
      nodes: [...this.nodes]
        .map(([id, n]) => ({ id: Number(id), labels: [...n.labels].sort(), properties: comparableMap(n.properties) }))
        .sort(byId),
      relationships: [...this.relationships]
        .map(([id, r]) => ({
          id: Number(id),
          src: Number(r.src),
          dst: Number(r.dst),
          type: r.type,
          properties: comparableMap(r.properties),
        }))
        .sort(byId),
    };
  }

  private node(id: bigint, by: string): ModelNode {
    const node = this.nodes.get(id);
    if (node === undefined) throw new Error(`${by}: missing node ${id}`);
    return node;
  }

  private relationship(id: bigint, by: string): ModelRelationship {
    const rel = this.relationships.get(id);
    if (rel === undefined) throw new Error(`${by}: missing relationship ${id}`);
    return rel;
  }

  private incident(nodeId: bigint): bigint[] {
    return [...this.relationships].filter(([, r]) => r.src === nodeId || r.dst === nodeId).map(([id]) => id);
  }
}

function toMap(properties: PropertyMap): Map<string, PropertyValue> {
  return new Map(Object.entries(properties));
}

function byId(a: { id: number }, b: { id: number }): number {
  return a.id - b.id;
}

export interface ComparableNode {
  readonly id: number;
  readonly labels: string[];
  readonly properties: Record<string, unknown>;
}

export interface ComparableRelationship {
  readonly id: number;
  readonly src: number;
  readonly dst: number;
  readonly type: string;
  readonly properties: Record<string, unknown>;
}

export interface ComparableGraph {
  readonly nodes: ComparableNode[];
  readonly relationships: ComparableRelationship[];
}

function comparableMap(properties: Map<string, PropertyValue>): Record<string, unknown> {
  const out = Object.create(null) as Record<string, unknown>;
  for (const [k, v] of [...properties].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    // lora-node builds result objects by assignment, so a `__proto__` key never reaches JavaScript (Cypher's
    // `keys()` and `m['__proto__']` show the engine has it): leave it out here too and check it through Cypher.
    if (k !== "__proto__") out[k] = comparable(v);
  }
  return out;
}

const VECTOR_TYPES = new Map<unknown, string>([
  [Float64Array, "FLOAT64"],
  [Float32Array, "FLOAT32"],
  [BigInt64Array, "INTEGER"],
  [Int32Array, "INTEGER32"],
  [Int16Array, "INTEGER16"],
  [Int8Array, "INTEGER8"],
]);

function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}

/** One of our property values in the shape lora-node returns it (see the module comment). */
export function comparable(value: PropertyValue): unknown {
  if (value === null || typeof value === "boolean" || typeof value === "string" || typeof value === "number") {
    return value;
  }
  if (typeof value === "bigint") return Number(value);
  if (value instanceof LoraFloat) return comparable(value.toNumber());
  if (Array.isArray(value)) return value.map(comparable);
  if (value instanceof LoraDate) {
    return { kind: "date", iso: `${pad(value.year, 4)}-${pad(value.month, 2)}-${pad(value.day, 2)}` };
  }
  if (value instanceof LoraTime) return { kind: "time" };
  if (value instanceof LoraLocalTime) return { kind: "localtime" };
  if (value instanceof LoraDateTime) return { kind: "datetime" };
  if (value instanceof LoraLocalDateTime) return { kind: "localdatetime" };
  if (value instanceof LoraDuration) return { kind: "duration" };
  if (value instanceof LoraPoint) {
    const f = (x: number | LoraFloat) => (x instanceof LoraFloat ? x.toNumber() : x);
    return {
      kind: "point",
      srid: value.srid,
      x: f(value.x),
      y: f(value.y),
      ...(value.z === undefined ? {} : { z: f(value.z) }),
    };
  }
  if (value instanceof LoraVector) {
    return {
      kind: "vector",
      dimension: value.dimension,
      coordinateType: VECTOR_TYPES.get(value.values.constructor),
      values: Array.from(value.values as ArrayLike<number | bigint>, (x) => Number(x)),
    };
  }
  if (value instanceof LoraBinary) return { kind: "binary", bytes: Array.from(value.toBytes()) };
  return comparableMap(toMap(value));
}

/** A value as lora-node returns it, reduced to the shape of {@link comparable}. */
export function comparableLora(value: unknown): unknown {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map(comparableLora);
  const v = value as Record<string, unknown>;
  switch (v.kind) {
    case "date":
      return { kind: "date", iso: v.iso };
    case "time":
    case "localtime":
    case "datetime":
    case "localdatetime":
    case "duration":
      return { kind: v.kind };
    case "point":
      return { kind: "point", srid: v.srid, x: v.x, y: v.y, ...("z" in v ? { z: v.z } : {}) };
    case "vector":
      return { kind: "vector", dimension: v.dimension, coordinateType: v.coordinateType, values: v.values };
    case "binary":
      return { kind: "binary", bytes: (v.segments as number[][]).flat() };
    default: {
      const out = Object.create(null) as Record<string, unknown>;
      for (const k of Object.keys(v).sort()) out[k] = comparableLora(v[k]);
      return out;
    }
  }
}

/** The part of the lora-node `Database` these helpers use. */
export interface LoraQueryable {
  execute(query: string, params?: never): Promise<{ rows: Record<string, unknown>[] }>;
}

/** Every node and relationship of an open LoraDB database, in the shape of {@link GraphModel.snapshot}. */
export async function readLoraGraph(db: LoraQueryable): Promise<ComparableGraph> {
  const nodes = await db.execute("MATCH (n) RETURN n");
  const rels = await db.execute("MATCH ()-[r]->() RETURN r");
  return {
    nodes: nodes.rows
      .map((row) => {
        const n = row.n as { id: number; labels: string[]; properties: Record<string, unknown> };
        return { id: n.id, labels: [...n.labels].sort(), properties: comparableLora(n.properties) as never };
      })
      .sort(byId),
    relationships: rels.rows
      .map((row) => {
        const r = row.r as {
          id: number;
          startId: number;
          endId: number;
          type: string;
          properties: Record<string, unknown>;
        };
        return {
          id: r.id,
          src: r.startId,
          dst: r.endId,
          type: r.type,
          properties: comparableLora(r.properties) as never,
        };
      })
      .sort(byId),
  };
}

/** `toString(n.key)` for each key of the single node labelled `label`: exact i64 text from the engine. */
export async function loraPropertyText(db: LoraQueryable, label: string, keys: readonly string[]): Promise<string[]> {
  const columns = keys.map((k, i) => `toString(n.\`${k}\`) AS c${i}`).join(", ");
  const result = await db.execute(`MATCH (n:\`${label}\`) RETURN ${columns}`);
  if (result.rows.length !== 1) throw new Error(`expected one node labelled ${label}, got ${result.rows.length}`);
  const row = result.rows[0] as Record<string, unknown>;
  return keys.map((_, i) => row[`c${i}`] as string);
}
