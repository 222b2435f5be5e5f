/**
 * A second opinion on the decoder's heap budget (test support): the heap a decoded value holds, estimated from the
 * value itself with the decoder's size table (`decode-budget.ts`) and its representation rules (`decoded-map.ts`).
 * The decoder charges before it builds; this walks what was built. `charged >= heapEstimate(value)` means nothing
 * the decoder returns escaped its budget.
 *
 * Objects reached twice count once, frozen ones (the decoder's shared constants) not at all. The walk stops early, returning a value above
 * `stopAbove`, once the estimate passes it (a decoded value can hold millions of objects).
 */

import { BYTES_SLAB_MAX_EVENT } from "../../bytes-codec.js";
import {
  arrayBytes,
  BIGINT_BYTES,
  EMPTY_MAP_BYTES,
  INDEX_DICTIONARY_BYTES,
  MAP_BYTES,
  MAP_ENTRY_BYTES,
  NAMED_INDEX_DICTIONARY_BYTES,
  NUMBER_BYTES,
  objectBytes,
  stringBytes,
  TYPED_ARRAY_BYTES,
  TYPED_VIEW_BYTES,
} from "../decode-budget.js";
import { isArrayIndexKey } from "../decoded-map.js";
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
} from "../lora-values.js";

const utf8 = new TextEncoder();
const utf8Length = (s: string): number => utf8.encode(s).length;

/** Fields of events, requests and type terms whose strings are the decoder's constants, not decoded text. */
const ENUM_FIELDS = new Set(["type", "kind", "entity", "scalar", "coord"]);

const TEMPORAL_FIELDS = new Map<unknown, number>([
  [LoraDate, 3],
  [LoraTime, 5],
  [LoraLocalTime, 4],
  [LoraDateTime, 8],
  [LoraLocalDateTime, 7],
]);

/** The estimated heap `value` holds, or some number above `stopAbove` once it is known to pass it. */
export function heapEstimate(value: unknown, stopAbove = Number.POSITIVE_INFINITY): number {
  const seen = new Set<object>();
  let total = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0 && total <= stopAbove) {
    const v = stack.pop();
    switch (typeof v) {
      case "bigint":
        total += BIGINT_BYTES;
        continue;
      case "number":
        total += NUMBER_BYTES;
        continue;
      case "string":
        total += stringBytes(utf8Length(v));
        continue;
      case "object":
        break;
      default:
        continue;
    }
    // Frozen objects are the decoder's shared constants (the Clear event, Scalar terms): they cost only their slot.
    if (v === null || seen.has(v) || Object.isFrozen(v)) continue;
    seen.add(v);
    total += ownBytes(v, stack);
  }
  return total;
}

/** What `v` itself holds; pushes what it refers to. */
function ownBytes(v: object, stack: unknown[]): number {
  if (Array.isArray(v)) {
    for (const x of v) stack.push(x);
    return arrayBytes(v.length);
  }
  const proto = Object.getPrototypeOf(v) as { constructor?: unknown } | null;
  if (proto === null) return mapBytes(v as Record<string, unknown>, stack);
  const temporal = TEMPORAL_FIELDS.get(proto.constructor);
  if (temporal !== undefined) return objectBytes(temporal) + temporal * NUMBER_BYTES;
  if (v instanceof LoraDuration) return objectBytes(4) + 4 * BIGINT_BYTES;
  if (v instanceof LoraFloat) return objectBytes(1) + BIGINT_BYTES;
  if (v instanceof LoraPoint) {
    stack.push(v.x, v.y, v.z);
    return objectBytes(4) + NUMBER_BYTES;
  }
  if (v instanceof LoraVector) return objectBytes(2) + TYPED_ARRAY_BYTES + v.values.byteLength;
  if (v instanceof LoraBinary) {
    let bytes = objectBytes(1) + arrayBytes(v.segments.length);
    for (const s of v.segments) {
      bytes += s.byteLength > BYTES_SLAB_MAX_EVENT ? TYPED_ARRAY_BYTES + s.byteLength : TYPED_VIEW_BYTES + s.byteLength;
    }
    return bytes;
  }
  // An event, a DDL request or a property-type term: a plain object. Its enum fields hold constant strings.
  const keys = Object.keys(v);
  for (const k of keys) if (!ENUM_FIELDS.has(k)) stack.push((v as Record<string, unknown>)[k]);
  return objectBytes(keys.length);
}

/** A decoded map, as `decoded-map.ts` builds it: the object, each entry, named keys, the elements dictionary. */
function mapBytes(map: Record<string, unknown>, stack: unknown[]): number {
  const keys = Object.keys(map);
  if (keys.length === 0) return EMPTY_MAP_BYTES;
  let named = 0;
  let indexed = 0;
  let bytes = 0;
  for (const k of keys) {
    stack.push(map[k]);
    const raw = utf8.encode(k);
    if (isArrayIndexKey(raw)) {
      indexed++;
    } else {
      named++;
      bytes += MAP_ENTRY_BYTES + stringBytes(raw.length);
    }
  }
  if (named === 0) return bytes + EMPTY_MAP_BYTES + INDEX_DICTIONARY_BYTES + MAP_ENTRY_BYTES * indexed;
  bytes += MAP_BYTES;
  if (indexed > 0) bytes += NAMED_INDEX_DICTIONARY_BYTES + MAP_ENTRY_BYTES * indexed;
  return bytes;
}
