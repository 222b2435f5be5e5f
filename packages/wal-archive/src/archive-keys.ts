/**
 * How archived objects are named. A key carries everything restore needs to plan without reading an object (which
 * segment, its base LSN, which bytes) and the CRC-32 and size that the object's bytes must match, so every store
 * (a directory, S3) verifies the same way and needs no metadata beside the bytes.
 *
 * - A sealed segment, whole: `segments/<id:10>-<baseLsn:16>-<size>-<crc32:8 hex>.wal`
 * - A piece of the active segment's durable prefix, bytes `[from, to)` of the file:
 *   `partial/<id:10>-<baseLsn:16>-<from:12>-<to:12>-<crc32:8 hex>.part`
 *
 * Numbers are zero-padded decimal, so keys sort by segment and offset. A piece is shipped only up to a record
 * boundary at or below the durable LSN, so concatenating a segment's pieces from offset 0 gives a valid segment.
 */

import { shownValue, WalError } from "@lora/wal-codec";

/** What a key names. */
export type ArchiveKey =
  | {
      readonly kind: "segment";
      readonly id: number;
      readonly baseLsn: number;
      readonly size: number;
      readonly crc32: number;
    }
  | {
      readonly kind: "piece";
      readonly id: number;
      readonly baseLsn: number;
      /** The piece holds bytes `[from, to)` of the segment file. */
      readonly from: number;
      readonly to: number;
      readonly crc32: number;
    };

/** The key prefix of sealed segments, whole (`segments/<id>-<baseLsn>-<size>-<crc32>.wal`). */
export const SEGMENTS_PREFIX = "segments/";
/** The key prefix of pieces of the active segment's durable prefix (`partial/<id>-<baseLsn>-<from>-<to>-<crc32>.part`). */
export const PIECES_PREFIX = "partial/";

const pad = (n: number, width: number) => String(n).padStart(width, "0");
const hex = (crc: number) => (crc >>> 0).toString(16).padStart(8, "0");

/** The numeric fields each kind of key must have (every one but `crc32` a non-negative safe integer). */
const FIELDS = {
  segment: ["id", "baseLsn", "size", "crc32"],
  piece: ["id", "baseLsn", "from", "to", "crc32"],
} as const;

/**
 * The key of an archived object.
 * @throws {@link WalError} `WAL_INVALID_ARGUMENT` when `kind` is not `"segment"` or `"piece"`, when a field of that
 *   kind is missing or out of range (`crc32` an integer in [0, 2^32), the others non-negative safe integers), or when
 *   a piece holds no bytes (`to <= from`).
 */
export function archiveKey(k: ArchiveKey): string {
  const kind: unknown = (k as { kind?: unknown } | null)?.kind;
  if (kind !== "segment" && kind !== "piece") {
    throw new WalError(
      "WAL_INVALID_ARGUMENT",
      `archive key kind must be "segment" or "piece", got ${shownValue(kind)}`,
    );
  }
  for (const name of FIELDS[kind]) {
    const v: unknown = (k as Record<string, unknown>)[name];
    const ok =
      name === "crc32"
        ? Number.isInteger(v) && (v as number) >= 0 && (v as number) < 2 ** 32
        : Number.isSafeInteger(v) && (v as number) >= 0;
    if (!ok) {
      const range = name === "crc32" ? "an integer in [0, 2^32)" : "a non-negative safe integer";
      throw new WalError("WAL_INVALID_ARGUMENT", `archive key field ${name} must be ${range}, got ${shownValue(v)}`);
    }
  }
  if (k.kind === "segment") {
    return `${SEGMENTS_PREFIX}${pad(k.id, 10)}-${pad(k.baseLsn, 16)}-${k.size}-${hex(k.crc32)}.wal`;
  }
  if (k.to <= k.from) throw new WalError("WAL_INVALID_ARGUMENT", `a piece must hold bytes: [${k.from}, ${k.to})`);
  return `${PIECES_PREFIX}${pad(k.id, 10)}-${pad(k.baseLsn, 16)}-${pad(k.from, 12)}-${pad(k.to, 12)}-${hex(k.crc32)}.part`;
}

/** The prefix every piece key of segment `id` starts with, whatever its base LSN and range. */
export function pieceKeyPrefix(id: number): string {
  return `${PIECES_PREFIX}${pad(id, 10)}-`;
}

const SEGMENT_KEY = /^segments\/(\d{10,})-(\d{16,})-(\d+)-([0-9a-f]{8})\.wal$/;
const PIECE_KEY = /^partial\/(\d{10,})-(\d{16,})-(\d{12,})-(\d{12,})-([0-9a-f]{8})\.part$/;

/** Parse a key; `null` for a key that is not one of ours (other objects under the same prefix are ignored). */
export function parseArchiveKey(key: string): ArchiveKey | null {
  const num = (s: string | undefined) => {
    const n = Number(s);
    return Number.isSafeInteger(n) ? n : Number.NaN;
  };
  let m = SEGMENT_KEY.exec(key);
  if (m !== null) {
    const k = {
      kind: "segment" as const,
      id: num(m[1]),
      baseLsn: num(m[2]),
      size: num(m[3]),
      crc32: Number.parseInt(m[4] as string, 16),
    };
    return Number.isNaN(k.id + k.baseLsn + k.size) ? null : k;
  }
  m = PIECE_KEY.exec(key);
  if (m !== null) {
    const k = {
      kind: "piece" as const,
      id: num(m[1]),
      baseLsn: num(m[2]),
      from: num(m[3]),
      to: num(m[4]),
      crc32: Number.parseInt(m[5] as string, 16),
    };
    return Number.isNaN(k.id + k.baseLsn + k.from + k.to) || k.to <= k.from ? null : k;
  }
  return null;
}

const KEY_CHARS = /^[A-Za-z0-9._/-]+$/;

/** @throws {@link WalError} `WAL_INVALID_ARGUMENT` unless `key` is a valid store key (see {@link ArchiveStore}). */
export function assertStoreKey(key: unknown, what = "key"): asserts key is string {
  const ok =
    typeof key === "string" &&
    key.length > 0 &&
    key.length <= 512 &&
    KEY_CHARS.test(key) &&
    !key.startsWith("/") &&
    key.split("/").every((part) => part !== "" && part !== "." && part !== "..");
  if (!ok) throw new WalError("WAL_INVALID_ARGUMENT", `invalid archive ${what}: ${shownValue(key)}`);
}

/** @throws {@link WalError} `WAL_INVALID_ARGUMENT` unless `prefix` is empty or a valid key prefix. */
export function assertStorePrefix(prefix: unknown): asserts prefix is string {
  if (prefix === "") return;
  const p = typeof prefix === "string" && prefix.endsWith("/") ? prefix.slice(0, -1) : prefix;
  assertStoreKey(p, "prefix");
}
