/**
 * Human-readable text for decoded events (`dump` without `--json`). LoraDB events read like Cypher:
 * `CreateNode #3 (:Person {name: "alice", age: 42})`; values are exact (Ints print every digit, Floats always show
 * a fraction or an exponent so `2.0` never reads as the Int `2`). Raw bytes print as hex, cut after
 * 64 bytes (`--json` has them all).
 */

import {
  type LoraBinary,
  LoraFloat,
  type LoraValueType,
  type LoraVector,
  loraValueTypeOf,
  type MutationEvent,
} from "@lora/wal-codec/lora";
import { temporalText, vectorTypeName } from "./temporal-text.js";

/** Bytes shown before a hex dump is cut in text output. */
export const TEXT_BYTES_LIMIT = 64;

/** `0x0001ff`, cut after {@link TEXT_BYTES_LIMIT} bytes with the total length. */
export function hexText(bytes: Uint8Array): string {
  const shown = bytes.subarray(0, TEXT_BYTES_LIMIT);
  const hex = Buffer.from(shown.buffer, shown.byteOffset, shown.byteLength).toString("hex");
  return bytes.byteLength > TEXT_BYTES_LIMIT ? `0x${hex}… (${bytes.byteLength} bytes)` : `0x${hex}`;
}

/** A Float that never looks like an Int: `2.0`, `1.5e+300`, `-0.0`, `NaN`, `Infinity`. */
export function floatText(n: number): string {
  if (Object.is(n, -0)) return "-0.0";
  if (!Number.isFinite(n)) return String(n);
  const s = String(n);
  return /[.eE]/.test(s) ? s : `${s}.0`;
}

function f64Text(v: number | LoraFloat | undefined): string {
  return v instanceof LoraFloat ? `NaN(0x${v.bits.toString(16).padStart(16, "0")})` : floatText(v ?? Number.NaN);
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

function keyText(key: string): string {
  return IDENTIFIER.test(key) ? key : `\`${key.replaceAll("`", "``")}\``;
}

/** Cypher-like literal text for a LoraDB value (or any plain value). */
export function valueText(value: unknown): string {
  switch (typeof value) {
    case "bigint":
      return value.toString();
    case "number":
      return floatText(value);
    case "string":
      return JSON.stringify(value);
    case "boolean":
      return String(value);
    case "undefined":
      return "null";
    case "object":
      break;
    default:
      return String(value);
  }
  if (value === null) return "null";
  if (Array.isArray(value)) return `[${value.map(valueText).join(", ")}]`;
  if (value instanceof Uint8Array) return hexText(value);
  if (value instanceof LoraFloat) return f64Text(value);
  const type = loraValueTypeOf(value);
  if (type !== undefined) return loraValueText(value, type);
  return mapText(value as Record<string, unknown>);
}

/** A class-valued LoraDB value, by its entry in the value-type table: `date("2026-04-27")`, `point({x: 1.5, …})`. */
function loraValueText(value: object, type: LoraValueType): string {
  switch (type.shape) {
    case "temporal":
      return `${type.cypher}("${temporalText(value, type)}")`;
    case "struct": {
      const v = value as Record<string, unknown>;
      const fields: string[] = [];
      for (const f of type.fields) {
        const x = v[f.name];
        if (f.kind === "f64?" && x === undefined) continue;
        fields.push(
          `${f.name}: ${f.kind === "f64" || f.kind === "f64?" ? f64Text(x as number | LoraFloat) : String(x)}`,
        );
      }
      return `${type.cypher}({${fields.join(", ")}})`;
    }
    case "vector": {
      const { values, dimension } = value as LoraVector;
      const floats = values instanceof Float64Array || values instanceof Float32Array;
      const parts: string[] = [];
      for (const x of values) parts.push(floats ? floatText(x as number) : String(x));
      return `${type.cypher}([${parts.join(", ")}], ${dimension}, ${vectorTypeName(values)})`;
    }
    case "binary":
      return `${type.cypher}(${(value as LoraBinary).segments.map(hexText).join(", ")})`;
  }
}

function mapText(map: Record<string, unknown>): string {
  const keys = Object.keys(map);
  if (keys.length === 0) return "{}";
  return `{${keys.map((k) => `${keyText(k)}: ${valueText(map[k])}`).join(", ")}}`;
}

/**
 * DDL requests: their numbers are counts and dimensions (integers), except inside `options`, which holds index
 * config values where a number is a Float and an Int is a bigint.
 */
function requestText(value: unknown): string {
  if (typeof value === "number") return String(value);
  if (Array.isArray(value)) return `[${value.map(requestText).join(", ")}]`;
  if (typeof value !== "object" || value === null) return valueText(value);
  const map = value as Record<string, unknown>;
  const fields = Object.keys(map).map(
    (k) => `${keyText(k)}: ${k === "options" ? valueText(map[k]) : requestText(map[k])}`,
  );
  return `{${fields.join(", ")}}`;
}

function propsText(props: Record<string, unknown>): string {
  return Object.keys(props).length === 0 ? "" : ` ${mapText(props)}`;
}

/** One LoraDB mutation event as one line. */
export function loraEventText(event: MutationEvent): string {
  switch (event.type) {
    case "CreateNode":
      return `CreateNode #${event.id} (${event.labels.map((l) => `:${keyText(l)}`).join("")}${propsText(event.properties)})`;
    case "CreateRelationship":
      return `CreateRelationship #${event.id} (#${event.src})-[:${keyText(event.relType)}${propsText(event.properties)}]->(#${event.dst})`;
    case "SetNodeProperty":
      return `SetNodeProperty #${event.nodeId}.${keyText(event.key)} = ${valueText(event.value)}`;
    case "RemoveNodeProperty":
      return `RemoveNodeProperty #${event.nodeId}.${keyText(event.key)}`;
    case "AddNodeLabel":
      return `AddNodeLabel #${event.nodeId}:${keyText(event.label)}`;
    case "RemoveNodeLabel":
      return `RemoveNodeLabel #${event.nodeId}:${keyText(event.label)}`;
    case "SetRelationshipProperty":
      return `SetRelationshipProperty #${event.relId}.${keyText(event.key)} = ${valueText(event.value)}`;
    case "RemoveRelationshipProperty":
      return `RemoveRelationshipProperty #${event.relId}.${keyText(event.key)}`;
    case "DeleteRelationship":
      return `DeleteRelationship #${event.relId}`;
    case "DeleteNode":
      return `DeleteNode #${event.nodeId}`;
    case "DetachDeleteNode":
      return `DetachDeleteNode #${event.nodeId}`;
    case "Clear":
      return "Clear";
    case "CreateIndex":
      return `CreateIndex ${requestText(event.request)}${event.ifNotExists ? " IF NOT EXISTS" : ""}`;
    case "DropIndex":
      return `DropIndex ${JSON.stringify(event.name)}${event.ifExists ? " IF EXISTS" : ""}`;
    case "CreateConstraint":
      return `CreateConstraint ${requestText(event.request)}${event.ifNotExists ? " IF NOT EXISTS" : ""}`;
    case "DropConstraint":
      return `DropConstraint ${JSON.stringify(event.name)}${event.ifExists ? " IF EXISTS" : ""}`;
    default:
      return valueText(event);
  }
}

/** One decoded event of `codec` as one line of text. */
export function eventText(event: unknown, codecName: string): string {
  if (codecName === "lora") return loraEventText(event as MutationEvent);
  if (event instanceof Uint8Array) return hexText(event);
  return JSON.stringify(event) ?? "null";
}
