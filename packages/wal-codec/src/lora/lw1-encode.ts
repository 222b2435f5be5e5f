/**
 * LW1 encoder: writes events straight into a {@link ByteWriter} (no intermediate buffers; the store-codec payload of
 * DDL events gets its u64 length back-patched). Every failure is a `WAL_ENCODE` {@link WalError}, and the writer is
 * rolled back to where the payload started.
 */

import type { ByteWriter } from "../byte-writer.js";
import { isWalError, WalError } from "../errors.js";
import { describe, writeF64 } from "./f64-slot.js";
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
} from "./lora-values.js";
import {
  LITTLE_ENDIAN_HOST,
  LW1_MAGIC,
  MAX_NESTING_DEPTH,
  TAG_ADD_NODE_LABEL,
  TAG_CLEAR,
  TAG_CREATE_CONSTRAINT,
  TAG_CREATE_INDEX,
  TAG_CREATE_NODE,
  TAG_CREATE_RELATIONSHIP,
  TAG_DELETE_NODE,
  TAG_DELETE_RELATIONSHIP,
  TAG_DETACH_DELETE_NODE,
  TAG_DROP_CONSTRAINT,
  TAG_DROP_INDEX,
  TAG_REMOVE_NODE_LABEL,
  TAG_REMOVE_NODE_PROPERTY,
  TAG_REMOVE_RELATIONSHIP_PROPERTY,
  TAG_SET_NODE_PROPERTY,
  TAG_SET_RELATIONSHIP_PROPERTY,
  VALUE_BINARY,
  VALUE_BOOL,
  VALUE_DATE,
  VALUE_DATE_TIME,
  VALUE_DURATION,
  VALUE_FLOAT,
  VALUE_INT,
  VALUE_LIST,
  VALUE_LOCAL_DATE_TIME,
  VALUE_LOCAL_TIME,
  VALUE_MAP,
  VALUE_NULL,
  VALUE_POINT,
  VALUE_STRING,
  VALUE_TIME,
  VALUE_VECTOR,
  VECTOR_FLOAT32,
  VECTOR_FLOAT64,
  VECTOR_INTEGER8,
  VECTOR_INTEGER16,
  VECTOR_INTEGER32,
  VECTOR_INTEGER64,
} from "./lw1-format.js";
import type { MutationEvent } from "./mutation-event.js";
import { writeConstraintRequest, writeIndexRequest } from "./store-ddl.js";
import { sortedKeys } from "./utf8-order.js";

const U64_MAX = 0xffff_ffff_ffff_ffffn;
const I64_MIN = -0x8000_0000_0000_0000n;
const I64_MAX = 0x7fff_ffff_ffff_ffffn;

function fail(message: string): never {
  throw new WalError("WAL_ENCODE", message);
}

function writeU64Id(out: ByteWriter, value: unknown, what: string): void {
  if (typeof value !== "bigint") fail(`${what} must be a bigint, got ${describe(value)}`);
  if (value < 0n || value > U64_MAX) fail(`${what} ${value} is out of u64 range`);
  out.u64Big(value);
}

function writeI64(out: ByteWriter, value: unknown, what: string): void {
  if (typeof value !== "bigint") fail(`${what} must be a bigint, got ${describe(value)}`);
  if (value < I64_MIN || value > I64_MAX) fail(`${what} ${value} is out of i64 range`);
  out.i64(value);
}

function writeU32(out: ByteWriter, value: unknown, what: string): void {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > 0xffff_ffff) {
    fail(`${what} must be an integer in u32 range, got ${describe(value)}`);
  }
  out.u32(value);
}

function writeI32(out: ByteWriter, value: unknown, what: string): void {
  if (typeof value !== "number" || !Number.isInteger(value) || value < -0x8000_0000 || value > 0x7fff_ffff) {
    fail(`${what} must be an integer in i32 range, got ${describe(value)}`);
  }
  out.i32(value);
}

function writeStr(out: ByteWriter, value: unknown, what: string): void {
  if (typeof value !== "string") fail(`${what} must be a string, got ${describe(value)}`);
  out.string(value);
}

function writeFlag(out: ByteWriter, value: unknown, what: string): void {
  if (typeof value !== "boolean") fail(`${what} must be a boolean, got ${describe(value)}`);
  out.u8(value ? 1 : 0);
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** `u64 count` then (key, value) pairs with keys sorted by UTF-8 bytes (LoraDB's BTreeMap order). */
function writeMap(out: ByteWriter, map: unknown, depth: number, what: string): void {
  if (typeof map !== "object" || map === null || Array.isArray(map) || !isPlainObject(map)) {
    fail(`${what} must be a plain object, got ${describe(map)}`);
  }
  const keys = sortedKeys(map);
  out.u64(keys.length);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    out.string(key);
    writeValue(out, (map as Record<string, unknown>)[key], depth);
  }
}

function writeVector(out: ByteWriter, v: LoraVector): void {
  const values = v.values as unknown;
  let subtag: number;
  if (values instanceof Float64Array) subtag = VECTOR_FLOAT64;
  else if (values instanceof Float32Array) subtag = VECTOR_FLOAT32;
  else if (values instanceof BigInt64Array) subtag = VECTOR_INTEGER64;
  else if (values instanceof Int32Array) subtag = VECTOR_INTEGER32;
  else if (values instanceof Int16Array) subtag = VECTOR_INTEGER16;
  else if (values instanceof Int8Array) subtag = VECTOR_INTEGER8;
  else fail(`vector values must be a Float64/Float32/BigInt64/Int32/Int16/Int8Array, got ${describe(values)}`);
  const dimension = v.dimension;
  if (!Number.isSafeInteger(dimension) || dimension < 0) fail(`vector dimension ${String(dimension)} is invalid`);
  out.u64(dimension);
  out.u8(subtag);
  out.u64(values.length);
  if (LITTLE_ENDIAN_HOST || subtag === VECTOR_INTEGER8) {
    out.raw(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  } else {
    // Big-endian host: go element by element through the writer (little-endian).
    for (let i = 0; i < values.length; i++) {
      if (values instanceof BigInt64Array) out.i64(values[i] as bigint);
      else if (values instanceof Float64Array) out.f64(values[i] as number);
      else if (values instanceof Float32Array) out.f32(values[i] as number);
      else if (values instanceof Int32Array) out.i32(values[i] as number);
      else out.i16(values[i] as number);
    }
  }
}

function writeBinary(out: ByteWriter, b: LoraBinary): void {
  const segments = b.segments as unknown;
  if (!Array.isArray(segments)) fail("binary segments must be an array of Uint8Array");
  out.u64(segments.length);
  for (const s of segments) {
    if (!(s instanceof Uint8Array)) fail(`binary segment must be a Uint8Array, got ${describe(s)}`);
    out.bytes(s);
  }
}

function tooDeep(): never {
  fail(`list/map nesting exceeds ${MAX_NESTING_DEPTH} levels (cyclic value?)`);
}

/** Lists, maps and the value classes. Lists and maps at `depth` hold values at `depth + 1`. */
function writeObjectValue(out: ByteWriter, value: object, depth: number): void {
  if (Array.isArray(value)) {
    if (depth >= MAX_NESTING_DEPTH) tooDeep();
    out.u8(VALUE_LIST);
    out.u64(value.length);
    for (let i = 0; i < value.length; i++) writeValue(out, value[i], depth + 1);
    return;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto === Object.prototype || proto === null) {
    if (depth >= MAX_NESTING_DEPTH) tooDeep();
    out.u8(VALUE_MAP);
    writeMap(out, value, depth + 1, "map value");
    return;
  }
  switch (proto) {
    case LoraFloat.prototype:
      out.u8(VALUE_FLOAT);
      writeF64(out, value, "Float value");
      return;
    case LoraDate.prototype: {
      const v = value as LoraDate;
      out.u8(VALUE_DATE);
      writeI32(out, v.year, "Date.year");
      writeU32(out, v.month, "Date.month");
      writeU32(out, v.day, "Date.day");
      return;
    }
    case LoraTime.prototype: {
      const v = value as LoraTime;
      out.u8(VALUE_TIME);
      writeU32(out, v.hour, "Time.hour");
      writeU32(out, v.minute, "Time.minute");
      writeU32(out, v.second, "Time.second");
      writeU32(out, v.nanosecond, "Time.nanosecond");
      writeI32(out, v.offsetSeconds, "Time.offsetSeconds");
      return;
    }
    case LoraLocalTime.prototype: {
      const v = value as LoraLocalTime;
      out.u8(VALUE_LOCAL_TIME);
      writeU32(out, v.hour, "LocalTime.hour");
      writeU32(out, v.minute, "LocalTime.minute");
      writeU32(out, v.second, "LocalTime.second");
      writeU32(out, v.nanosecond, "LocalTime.nanosecond");
      return;
    }
    case LoraDateTime.prototype: {
      const v = value as LoraDateTime;
      out.u8(VALUE_DATE_TIME);
      writeI32(out, v.year, "DateTime.year");
      writeU32(out, v.month, "DateTime.month");
      writeU32(out, v.day, "DateTime.day");
      writeU32(out, v.hour, "DateTime.hour");
      writeU32(out, v.minute, "DateTime.minute");
      writeU32(out, v.second, "DateTime.second");
      writeU32(out, v.nanosecond, "DateTime.nanosecond");
      writeI32(out, v.offsetSeconds, "DateTime.offsetSeconds");
      return;
    }
    case LoraLocalDateTime.prototype: {
      const v = value as LoraLocalDateTime;
      out.u8(VALUE_LOCAL_DATE_TIME);
      writeI32(out, v.year, "LocalDateTime.year");
      writeU32(out, v.month, "LocalDateTime.month");
      writeU32(out, v.day, "LocalDateTime.day");
      writeU32(out, v.hour, "LocalDateTime.hour");
      writeU32(out, v.minute, "LocalDateTime.minute");
      writeU32(out, v.second, "LocalDateTime.second");
      writeU32(out, v.nanosecond, "LocalDateTime.nanosecond");
      return;
    }
    case LoraDuration.prototype: {
      const v = value as LoraDuration;
      out.u8(VALUE_DURATION);
      writeI64(out, v.months, "Duration.months");
      writeI64(out, v.days, "Duration.days");
      writeI64(out, v.seconds, "Duration.seconds");
      writeI64(out, v.nanoseconds, "Duration.nanoseconds");
      return;
    }
    case LoraPoint.prototype: {
      const v = value as LoraPoint;
      out.u8(VALUE_POINT);
      writeF64(out, v.x, "Point.x");
      writeF64(out, v.y, "Point.y");
      if (v.z === undefined) {
        out.u8(0);
      } else {
        out.u8(1);
        writeF64(out, v.z, "Point.z");
      }
      writeU32(out, v.srid, "Point.srid");
      return;
    }
    case LoraVector.prototype:
      out.u8(VALUE_VECTOR);
      writeVector(out, value as LoraVector);
      return;
    case LoraBinary.prototype:
      out.u8(VALUE_BINARY);
      writeBinary(out, value as LoraBinary);
      return;
    default:
      fail(`unsupported property value: ${describe(value)}`);
  }
}

/** Append one PropertyValue (tag + body). */
function writeValue(out: ByteWriter, value: unknown, depth: number): void {
  switch (typeof value) {
    case "boolean":
      out.u8(VALUE_BOOL);
      out.u8(value ? 1 : 0);
      return;
    case "bigint":
      out.u8(VALUE_INT);
      writeI64(out, value, "Int value");
      return;
    case "number":
      out.u8(VALUE_FLOAT);
      out.f64(value);
      return;
    case "string":
      out.u8(VALUE_STRING);
      out.string(value);
      return;
    case "object":
      if (value === null) {
        out.u8(VALUE_NULL);
        return;
      }
      writeObjectValue(out, value, depth);
      return;
    default:
      fail(`unsupported property value: ${describe(value)}`);
  }
}

function writeStringVec(out: ByteWriter, values: unknown, what: string): void {
  if (!Array.isArray(values)) fail(`${what} must be an array of strings, got ${describe(values)}`);
  out.u64(values.length);
  for (let i = 0; i < values.length; i++) writeStr(out, values[i], what);
}

/** Back-patched `bytes` field holding a store-codec request; store errors are prefixed with the event name. */
function writeDdlBytes(out: ByteWriter, what: string, write: () => void): void {
  const at = out.skip(8);
  try {
    write();
  } catch (e) {
    const message = isWalError(e) ? e.message : String(e);
    throw new WalError("WAL_ENCODE", `${what} encode failed: ${message}`, { cause: e });
  }
  out.setU64(at, out.length - at - 8);
}

/** Append one event (tag + fields), no magic. */
function writeEvent(out: ByteWriter, event: MutationEvent): void {
  if (typeof event !== "object" || event === null) fail(`mutation event must be an object, got ${describe(event)}`);
  switch (event.type) {
    case "CreateNode":
      out.u8(TAG_CREATE_NODE);
      writeU64Id(out, event.id, "CreateNode.id");
      writeStringVec(out, event.labels, "CreateNode.labels");
      writeMap(out, event.properties, 0, "CreateNode.properties");
      return;
    case "CreateRelationship":
      out.u8(TAG_CREATE_RELATIONSHIP);
      writeU64Id(out, event.id, "CreateRelationship.id");
      writeU64Id(out, event.src, "CreateRelationship.src");
      writeU64Id(out, event.dst, "CreateRelationship.dst");
      writeStr(out, event.relType, "CreateRelationship.relType");
      writeMap(out, event.properties, 0, "CreateRelationship.properties");
      return;
    case "SetNodeProperty":
      out.u8(TAG_SET_NODE_PROPERTY);
      writeU64Id(out, event.nodeId, "SetNodeProperty.nodeId");
      writeStr(out, event.key, "SetNodeProperty.key");
      writeValue(out, event.value, 0);
      return;
    case "RemoveNodeProperty":
      out.u8(TAG_REMOVE_NODE_PROPERTY);
      writeU64Id(out, event.nodeId, "RemoveNodeProperty.nodeId");
      writeStr(out, event.key, "RemoveNodeProperty.key");
      return;
    case "AddNodeLabel":
      out.u8(TAG_ADD_NODE_LABEL);
      writeU64Id(out, event.nodeId, "AddNodeLabel.nodeId");
      writeStr(out, event.label, "AddNodeLabel.label");
      return;
    case "RemoveNodeLabel":
      out.u8(TAG_REMOVE_NODE_LABEL);
      writeU64Id(out, event.nodeId, "RemoveNodeLabel.nodeId");
      writeStr(out, event.label, "RemoveNodeLabel.label");
      return;
    case "SetRelationshipProperty":
      out.u8(TAG_SET_RELATIONSHIP_PROPERTY);
      writeU64Id(out, event.relId, "SetRelationshipProperty.relId");
      writeStr(out, event.key, "SetRelationshipProperty.key");
      writeValue(out, event.value, 0);
      return;
    case "RemoveRelationshipProperty":
      out.u8(TAG_REMOVE_RELATIONSHIP_PROPERTY);
      writeU64Id(out, event.relId, "RemoveRelationshipProperty.relId");
      writeStr(out, event.key, "RemoveRelationshipProperty.key");
      return;
    case "DeleteRelationship":
      out.u8(TAG_DELETE_RELATIONSHIP);
      writeU64Id(out, event.relId, "DeleteRelationship.relId");
      return;
    case "DeleteNode":
      out.u8(TAG_DELETE_NODE);
      writeU64Id(out, event.nodeId, "DeleteNode.nodeId");
      return;
    case "DetachDeleteNode":
      out.u8(TAG_DETACH_DELETE_NODE);
      writeU64Id(out, event.nodeId, "DetachDeleteNode.nodeId");
      return;
    case "Clear":
      out.u8(TAG_CLEAR);
      return;
    case "CreateIndex":
      out.u8(TAG_CREATE_INDEX);
      writeDdlBytes(out, "CreateIndex", () => writeIndexRequest(out, event.request));
      writeFlag(out, event.ifNotExists, "CreateIndex.ifNotExists");
      return;
    case "DropIndex":
      out.u8(TAG_DROP_INDEX);
      writeStr(out, event.name, "DropIndex.name");
      writeFlag(out, event.ifExists, "DropIndex.ifExists");
      return;
    case "CreateConstraint":
      out.u8(TAG_CREATE_CONSTRAINT);
      writeDdlBytes(out, "CreateConstraint", () => writeConstraintRequest(out, event.request));
      writeFlag(out, event.ifNotExists, "CreateConstraint.ifNotExists");
      return;
    case "DropConstraint":
      out.u8(TAG_DROP_CONSTRAINT);
      writeStr(out, event.name, "DropConstraint.name");
      writeFlag(out, event.ifExists, "DropConstraint.ifExists");
      return;
    default:
      fail(`unknown mutation event type ${describe((event as { type?: unknown }).type)}`);
  }
}

/** Run `body`; on any failure roll `out` back to `start` and throw a `WAL_ENCODE` WalError. */
function guarded(out: ByteWriter, body: () => void): void {
  const start = out.length;
  try {
    body();
  } catch (e) {
    out.truncate(start);
    if (isWalError(e, "WAL_ENCODE")) throw e;
    throw new WalError("WAL_ENCODE", `cannot encode mutation event: ${isWalError(e) ? e.message : String(e)}`, {
      cause: e,
    });
  }
}

/**
 * Append the LW1 payload of a single-event Mutation record: magic + event.
 * @throws {@link WalError} `WAL_ENCODE` for anything that is not a valid event; `out` is left as it was.
 */
export function encodeLw1Event(event: MutationEvent, out: ByteWriter): void {
  guarded(out, () => {
    out.raw(LW1_MAGIC);
    writeEvent(out, event);
  });
}

/**
 * Append the LW1 payload of a MutationBatch record: magic + u64 count + events.
 * @throws {@link WalError} `WAL_ENCODE` for anything that is not a valid event; `out` is left as it was.
 */
export function encodeLw1Batch(events: readonly MutationEvent[], out: ByteWriter): void {
  guarded(out, () => {
    if (!Array.isArray(events)) fail("a batch must be an array of events");
    out.raw(LW1_MAGIC);
    out.u64(events.length);
    for (let i = 0; i < events.length; i++) writeEvent(out, events[i] as MutationEvent);
  });
}
