/** ISO 8601 text for LoraDB temporal values, built from the raw wire fields without normalising them. */

import type { VectorValues } from "@lora/wal-codec/lora";

const pad = (n: number, width = 2): string => {
  const sign = n < 0 ? "-" : "";
  return sign + String(Math.abs(n)).padStart(width, "0");
};

/** `2026-04-27` (the year keeps its sign and is padded to 4 digits). */
export function formatDate(d: { year: number; month: number; day: number }): string {
  return `${pad(d.year, 4)}-${pad(d.month)}-${pad(d.day)}`;
}

/** `12:34:56`, or `12:34:56.123456789` with trailing zeros of the fraction removed. */
export function formatLocalTime(t: { hour: number; minute: number; second: number; nanosecond: number }): string {
  const base = `${pad(t.hour)}:${pad(t.minute)}:${pad(t.second)}`;
  if (t.nanosecond === 0) return base;
  return `${base}.${String(t.nanosecond).padStart(9, "0").replace(/0+$/, "")}`;
}

/** `Z`, `+01:00`, `-05:30`, or `+01:00:30` when the offset has seconds. */
export function formatOffset(seconds: number): string {
  if (seconds === 0) return "Z";
  const sign = seconds < 0 ? "-" : "+";
  const abs = Math.abs(seconds);
  const h = Math.floor(abs / 3600);
  const m = Math.floor((abs % 3600) / 60);
  const s = abs % 60;
  return `${sign}${pad(h)}:${pad(m)}${s === 0 ? "" : `:${pad(s)}`}`;
}

/** The Cypher coordinate type of a vector's typed array. */
export function vectorTypeName(values: VectorValues): string {
  if (values instanceof Float64Array) return "FLOAT64";
  if (values instanceof Float32Array) return "FLOAT32";
  if (values instanceof BigInt64Array) return "INTEGER";
  if (values instanceof Int32Array) return "INT32";
  if (values instanceof Int16Array) return "INT16";
  return "INT8";
}
