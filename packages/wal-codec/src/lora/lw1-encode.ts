/**
 * LW1 encoder: writes events straight into a {@link ByteWriter} (no intermediate buffers; the store-codec payload of
 * DDL events gets its u64 length back-patched). Every failure is a `WAL_ENCODE` {@link WalError}, and the writer is
 * rolled back to where the payload started.
 */

import type { ByteWriter } from "../byte-writer.js";
import { shownError } from "../check-options.js";
import { isWalError, WalError } from "../errors.js";
import { describe, writeF64 } from "./f64-slot.js";
import { type LoraBinary, LoraFloat, type LoraVector } from "./lora-values.js";
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
  VALUE_BOOL,
  VALUE_FLOAT,
  VALUE_INT,
  VALUE_LIST,
  VALUE_MAP,
  VALUE_NULL,
  VALUE_STRING,
} from "./lw1-format.js";
import type { MutationEvent } from "./mutation-event.js";
import { writeConstraintRequest, writeIndexRequest } from "./store-ddl.js";
import { sortedKeys } from "./utf8-order.js";
import { type LoraValueType, loraValueTypeOf, loraVectorElementOf } from "./value-types.js";

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
  const element = ArrayBuffer.isView(values) ? loraVectorElementOf(values as LoraVector["values"]) : undefined;
  if (element === undefined) {
    fail(`vector values must be a Float64/Float32/BigInt64/Int32/Int16/Int8Array, got ${describe(values)}`);
  }
  const typed = values as LoraVector["values"];
  const dimension = v.dimension;
  // The decoder requires the dimension to be the number of values: anything else would be written, acknowledged,
  // and then refuse to decode, leaving a log that does not open.
  if (dimension !== typed.length) {
    fail(`vector dimension ${String(dimension)} does not match its ${typed.length} values`);
  }
  out.u64(dimension);
  out.u8(element.subtag);
  out.u64(typed.length);
  const raw = new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
  const size = element.array.BYTES_PER_ELEMENT;
  if (LITTLE_ENDIAN_HOST || size === 1) {
    out.raw(raw);
  } else {
    // Big-endian host: each element's bytes reversed into little-endian order.
    const le = new Uint8Array(raw.length);
    for (let at = 0; at < raw.length; at += size) {
      for (let j = 0; j < size; j++) le[at + j] = raw[at + size - 1 - j] as number;
    }
    out.raw(le);
  }
}

function writeBinary(out: ByteWriter, b: LoraBinary): void {
  const segments = b.segments as unknown;
  if (!Array.isArray(segments)) fail("binary segments must be an array of Uint8Array");
  // By index, up to the count written: an iterator of its own could yield another number of segments.
  const count = segments.length;
  out.u64(count);
  for (let i = 0; i < count; i++) {
    const s: unknown = segments[i];
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
  if (proto === LoraFloat.prototype) {
    out.u8(VALUE_FLOAT);
    writeF64(out, value, "Float value");
    return;
  }
  const type = loraValueTypeOf(value);
  if (type === undefined) fail(`unsupported property value: ${describe(value)}`);
  out.u8(type.tag);
  switch (type.shape) {
    case "vector":
      writeVector(out, value as LoraVector);
      return;
    case "binary":
      writeBinary(out, value as LoraBinary);
      return;
    default:
      writeFields(out, value as Record<string, unknown>, type);
  }
}

/** The fixed fields of a `temporal` or `struct` value, in wire order. */
function writeFields(out: ByteWriter, value: Record<string, unknown>, type: LoraValueType): void {
  const fields = type.fields;
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i] as LoraValueType["fields"][number];
    const v = value[field.name];
    switch (field.kind) {
      case "i32":
        writeI32(out, v, field.label);
        break;
      case "u32":
        writeU32(out, v, field.label);
        break;
      case "i64":
        writeI64(out, v, field.label);
        break;
      case "f64":
        writeF64(out, v, field.label);
        break;
      case "f64?":
        if (v === undefined) {
          out.u8(0);
        } else {
          out.u8(1);
          writeF64(out, v, field.label);
        }
        break;
    }
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
    const message = shownError(e);
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
      // The lora codec is Wal.open's default, so an application's own events usually land here because no
      // codec was chosen: say which codec takes them instead of only what is wrong.
      fail(
        `unknown mutation event type ${describe((event as { type?: unknown }).type)}: the lora codec (the default ` +
          `of Wal.open) encodes LoraDB mutation events only ({ type: "CreateNode", ... }, see MutationEvent); ` +
          `for events of your own, open the log with another codec (codec: jsonCodec, or a PayloadCodec of yours)`,
      );
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
    throw new WalError("WAL_ENCODE", `cannot encode mutation event: ${shownError(e)}`, {
      cause: e,
    });
  }
}

/**
 * Append the LW1 payload of a single-event Mutation record: magic + event.
 * @throws {@link "@lora/wal-codec"!WalError | WalError} `WAL_ENCODE` for anything that is not a valid event; `out` is left as it was.
 */
export function encodeLw1Event(event: MutationEvent, out: ByteWriter): void {
  guarded(out, () => {
    out.raw(LW1_MAGIC);
    writeEvent(out, event);
  });
}

/**
 * Append the LW1 payload of a MutationBatch record: magic + u64 count + events.
 * @throws {@link "@lora/wal-codec"!WalError | WalError} `WAL_ENCODE` for anything that is not a valid event; `out` is left as it was.
 */
export function encodeLw1Batch(events: readonly MutationEvent[], out: ByteWriter): void {
  guarded(out, () => {
    if (!Array.isArray(events)) fail("a batch must be an array of events");
    out.raw(LW1_MAGIC);
    out.u64(events.length);
    for (let i = 0; i < events.length; i++) writeEvent(out, events[i] as MutationEvent);
  });
}
