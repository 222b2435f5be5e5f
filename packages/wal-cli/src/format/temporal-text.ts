/** ISO 8601 text for LoraDB temporal values, built from the raw wire fields without normalising them. */

import { type LoraValueType, loraVectorElementOf, type VectorValues } from "@lora/wal-codec/lora";

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

/**
 * The ISO 8601 text of a `temporal` value of `type`, from the fields its layout has: a date (`year`, `month`, `day`),
 * a time of day (`hour` … `nanosecond`, after a `T` when there is a date too), an offset (`offsetSeconds`).
 */
export function temporalText(value: object, type: LoraValueType): string {
  // Only the fields the layout names are read: the others are absent from the value.
  const v = value as Parameters<typeof formatDate>[0] &
    Parameters<typeof formatLocalTime>[0] & { readonly offsetSeconds: number };
  const has = (name: string): boolean => type.fields.some((f) => f.name === name);
  const date = has("year") ? formatDate(v) : "";
  const time = has("hour") ? formatLocalTime(v) : "";
  const offset = has("offsetSeconds") ? formatOffset(v.offsetSeconds) : "";
  return date !== "" && time !== "" ? `${date}T${time}${offset}` : `${date}${time}${offset}`;
}

/** The Cypher coordinate type of a vector's typed array (`FLOAT32`, `INTEGER`, `INT8`, ...). */
export function vectorTypeName(values: VectorValues): string {
  return loraVectorElementOf(values)?.cypher ?? "INT8";
}
