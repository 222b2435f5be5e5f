/**
 * f64 fields that keep NaN bit patterns: Float values, point coordinates and index-config numbers. Canonical NaN
 * and every non-NaN are plain numbers; any other NaN is a {@link LoraFloat} carrying its exact bits.
 */

import type { ByteReader } from "../byte-reader.js";
import type { ByteWriter } from "../byte-writer.js";
import { WalError } from "../errors.js";
import { BIGINT_BYTES, type DecodeBudget, NUMBER_BYTES, objectBytes } from "./decode-budget.js";
import { LoraFloat } from "./lora-values.js";
import { CANONICAL_NAN_BITS } from "./lw1-format.js";

/** Write a number or {@link LoraFloat} as f64 bits; anything else is `WAL_ENCODE`. */
export function writeF64(out: ByteWriter, value: unknown, what: string): void {
  if (typeof value === "number") {
    out.f64(value);
  } else if (value instanceof LoraFloat) {
    if (typeof value.bits !== "bigint") throw new WalError("WAL_ENCODE", `${what}: LoraFloat bits must be a bigint`);
    out.u64Big(value.bits);
  } else {
    throw new WalError("WAL_ENCODE", `${what} must be a number or LoraFloat, got ${describe(value)}`);
  }
}

/**
 * Read an f64, charging `budget` for it first (a boxed number, or a {@link LoraFloat} and its bigint). `view` is a
 * DataView over the same bytes as `r` (positions are shared), used only to re-read the bits of a NaN so the common
 * path stays one DataView read.
 */
export function readF64(r: ByteReader, view: DataView, budget: DecodeBudget): number | LoraFloat {
  const v = r.f64();
  if (!Number.isNaN(v)) {
    budget.charge(NUMBER_BYTES);
    return v;
  }
  const bits = view.getBigUint64(r.position - 8, true);
  if (bits === CANONICAL_NAN_BITS) {
    budget.charge(NUMBER_BYTES);
    return v;
  }
  budget.charge(objectBytes(1) + BIGINT_BYTES);
  return new LoraFloat(bits);
}

/** A short description of an unsupported value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  const t = typeof value;
  if (t === "object") {
    const proto = Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null;
    return `object (${proto?.constructor?.name ?? "unknown class"})`;
  }
  if (t === "number" || t === "bigint" || t === "boolean") return `${t} ${String(value)}`;
  return t;
}
