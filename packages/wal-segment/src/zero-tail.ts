/**
 * Zero tails. A writer that preallocates its segment (`preallocateBytes`) zero-fills the file ahead of its records,
 * so the newest segment can end in zeros that no record ever covered: the end of the log, not damage. These helpers
 * look at such tails a bounded chunk at a time.
 */

import { shownValue, WalError } from "@lora/wal-codec";
import type { WalFile } from "./fs/file-system.js";

/**
 * The most a writer zero-fills ahead of its records (`preallocateBytes`, a spare segment's zero fill): 1 GiB. Each
 * fill is one write of up to that many zeros (plus a page), from one buffer kept for the process's life, and Node
 * refuses a write of 2 GiB or more: a larger fill could never be written, and would fail every commit instead.
 */
export const MAX_PREALLOCATE_BYTES = 1 << 30;

/** Zeros to write from (fills, spare segments); grown to the largest length asked for. */
let zeros = new Uint8Array(0);

/** `length` zero bytes to write from: a view of one shared buffer, never written to. */
export function zeroBytes(length: number): Uint8Array {
  if (zeros.byteLength < length) zeros = new Uint8Array(length);
  return zeros.subarray(0, length);
}

/** Bytes looked at per read. */
const CHUNK_BYTES = 64 * 1024;

/**
 * `length` as a count of bytes of `bytes` to look at: at most `bytes.length` (the word loops read the underlying
 * buffer, which may go on past the view), a whole number, 0 when negative or NaN.
 */
function viewLength(bytes: Uint8Array, length: number): number {
  return length > bytes.length ? bytes.length : length > 0 ? Math.floor(length) : 0;
}

/**
 * The index of the first non-zero byte of `bytes[0, length)`, or -1 when they are all zero. A `length` past
 * `bytes.length` looks at `bytes` only.
 */
export function firstNonZero(bytes: Uint8Array, length: number): number {
  const n = viewLength(bytes, length);
  let i = 0;
  // Bytes up to a 4-byte boundary of the underlying buffer, then whole 32-bit words (a quarter of the iterations
  // of a byte loop), then the bytes after the last whole word.
  while (i < n && (bytes.byteOffset + i) % 4 !== 0) {
    if (bytes[i] !== 0) return i;
    i++;
  }
  if (n - i >= 4) {
    const words = new Uint32Array(bytes.buffer, bytes.byteOffset + i, (n - i) >>> 2);
    let w = 0;
    while (w < words.length && words[w] === 0) w++;
    i += w * 4;
  }
  while (i < n && bytes[i] === 0) i++;
  return i < n ? i : -1;
}

/**
 * The index of the last non-zero byte of `bytes[0, length)`, or -1 when they are all zero: where a tail's data ends,
 * for a caller that reads the tail anyway (a copy of it) and would otherwise read it again to find that out. A `length`
 * past `bytes.length` is clamped to it (never a byte of the underlying buffer past the view), a negative one to 0.
 */
export function lastNonZero(bytes: Uint8Array, length: number): number {
  let i = viewLength(bytes, length);
  // Bytes after the last 4-byte boundary of the underlying buffer, then whole 32-bit words backwards, then the bytes
  // before the first boundary (or within the word that holds the last non-zero byte).
  while (i > 0 && (bytes.byteOffset + i) % 4 !== 0) {
    if (bytes[i - 1] !== 0) return i - 1;
    i--;
  }
  const start = Math.min(i, (4 - (bytes.byteOffset % 4)) % 4);
  if (i - start >= 4) {
    const words = new Uint32Array(bytes.buffer, bytes.byteOffset + start, (i - start) >>> 2);
    let w = words.length;
    while (w > 0 && words[w - 1] === 0) w--;
    i = start + w * 4;
  }
  while (i > 0 && bytes[i - 1] === 0) i--;
  return i - 1;
}

/**
 * True when every byte of `file` in `[from, to)` is zero (a hole reads as zeros). Stops at the first non-zero
 * byte; a file shorter than `to` is looked at to its end.
 * @throws {@link @lora/wal-codec!WalError} `WAL_INVALID_ARGUMENT` when `from` or `to` is not a non-negative safe
 *   integer (`NaN` would read nothing and answer "zeros").
 */
export async function isZeroRange(file: WalFile, from: number, to: number): Promise<boolean> {
  checkOffset("from", from);
  checkOffset("to", to);
  const chunk = new Uint8Array(Math.min(CHUNK_BYTES, Math.max(4, to - from)));
  for (let at = from; at < to; ) {
    const n = await file.read(chunk, 0, Math.min(chunk.byteLength, to - at), at);
    if (n === 0) return true;
    if (firstNonZero(chunk, n) >= 0) return false;
    at += n;
  }
  return true;
}

/**
 * The end of the last non-zero byte of `file` below `size` (0 when every byte is zero), reading backwards a chunk at
 * a time: where the data of a preallocated segment ends. Linear in the zero tail's length.
 * @throws {@link @lora/wal-codec!WalError} `WAL_INVALID_ARGUMENT` when `size` is not a non-negative safe integer.
 */
export async function dataEndOf(file: WalFile, size: number): Promise<number> {
  checkOffset("size", size);
  const chunk = new Uint8Array(Math.min(CHUNK_BYTES, Math.max(4, size)));
  for (let end = size; end > 0; ) {
    const from = Math.max(0, end - chunk.byteLength);
    const n = await file.read(chunk, 0, end - from, from);
    const last = lastNonZero(chunk, n);
    if (last >= 0) return from + last + 1;
    end = from;
  }
  return 0;
}

function checkOffset(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new WalError("WAL_INVALID_ARGUMENT", `${name} must be a non-negative safe integer, got ${shownValue(value)}`);
  }
}
