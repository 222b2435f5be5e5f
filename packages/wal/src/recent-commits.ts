/**
 * The newest transactions `commitTx` appended, kept in memory while an in-process follower (`wal.follow`) exists,
 * so that a follower at the live end is handed a commit without reading the segment back: no file read, no
 * thread-pool round trip, no second CRC pass over bytes this process just wrote.
 *
 * What the window guarantees, and why a follower can trust it as it would trust the file: it holds a gapless run
 * of the log's records, each entry one whole `commitTx` transaction (`TxBegin`, `MutationBatch`, `TxCommit` at
 * consecutive LSNs) in LSN order, appended while no low-level transaction was open. So for a position at the run's
 * start or at one of its commit LSNs, the run's later entries are exactly the transactions the file holds after
 * that position, in commit order. Anything else the handle appends (a low-level record, a checkpoint marker, a
 * commit while a `begin` is open) breaks the run: the window starts afresh and a follower behind the break reads
 * the file. The window is bounded; a follower that falls behind its oldest entry reads the file too.
 *
 * Entries hold a copy of the encoded records, decoded for each follower on delivery: a caller reusing its event
 * objects or buffers after `commitTx` cannot change what a follower receives. The copies go into shared slabs, not
 * an allocation each: a fresh 200-byte array per commit (an off-heap backing store) was an eighth of the CPU a
 * 64-writer process spent with a follower attached. A slab region is written once and never reused, so an entry's
 * bytes cannot change; a full slab is dropped and collected once its entries are.
 */

import { type PayloadCodec, RECORD_HEADER_BYTES, RECORD_TRAILER_BYTES } from "@lora/wal-codec";

/** A committed transaction as a follower receives it. */
export interface RecentTransaction<E> {
  readonly beginLsn: number;
  readonly commitLsn: number;
  readonly events: E[];
  /** Its resume token's restart point: the commit LSN + 1 (no other transaction was open). */
  readonly restartLsn: number;
}

/** Entries kept at most, and bytes: a few flush rounds of 64 concurrent writers, not a cache of the log. */
const MAX_ENTRIES = 4096;
const MAX_BYTES = 4 * 1024 * 1024;
/** One slab the entries are copied into; an entry larger than a quarter of it gets an array of its own. */
const SLAB_BYTES = 256 * 1024;

export class RecentCommits {
  /** Begin LSNs and encoded bytes, oldest first from `#head`. */
  #begins: number[] = [];
  #bytes: Uint8Array[] = [];
  #head = 0;
  #heldBytes = 0;
  #slab = new Uint8Array(SLAB_BYTES);
  #slabUsed = 0;

  /** Entries held now. */
  get size(): number {
    return this.#begins.length - this.#head;
  }

  /**
   * Record the transaction `commitTx` just appended at `beginLsn` (its three records, encoded, in `encoded`, which
   * the window copies: the caller may reuse that memory at once). A transaction that does not continue the run (an
   * LSN between them belongs to something else) starts a new one.
   */
  add(beginLsn: number, encoded: Uint8Array): void {
    const last = this.#begins[this.#begins.length - 1];
    if (last !== undefined && beginLsn !== last + 3) this.clear();
    this.#begins.push(beginLsn);
    this.#bytes.push(this.#keep(encoded));
    this.#heldBytes += encoded.byteLength;
    while (this.size > MAX_ENTRIES || (this.#heldBytes > MAX_BYTES && this.size > 1)) this.#dropOldest();
  }

  /** A copy of `bytes` in the current slab (a new slab when it is full), or in an array of its own when large. */
  #keep(bytes: Uint8Array): Uint8Array {
    const length = bytes.byteLength;
    if (length > SLAB_BYTES / 4) return bytes.slice();
    if (this.#slabUsed + length > SLAB_BYTES) {
      this.#slab = new Uint8Array(SLAB_BYTES);
      this.#slabUsed = 0;
    }
    const at = this.#slabUsed;
    this.#slab.set(bytes, at);
    this.#slabUsed = at + length;
    return this.#slab.subarray(at, at + length);
  }

  /** Forget the run: something other than a whole `commitTx` transaction was appended. */
  clear(): void {
    this.#begins = [];
    this.#bytes = [];
    this.#head = 0;
    this.#heldBytes = 0;
  }

  /**
   * The transactions after `position` (a commit LSN, or the run's start) with `commitLsn <= upTo` and
   * `beginLsn > after`, at most `max` of them, decoded with `codec`; `null` when the window cannot say what comes
   * after `position`: it is not the run's start or one of its commits, or it is the run's end while the log goes on
   * (`appendedLsn`, the last LSN the handle appended, lies beyond it). The caller must then read the file.
   * @throws what the codec's `decodeBatch` throws (it does not for bytes the handle encoded with the same codec).
   */
  after<E>(
    position: number,
    range: { readonly upTo: number; readonly after: number; readonly appendedLsn: number },
    max: number,
    codec: PayloadCodec<E>,
  ): RecentTransaction<E>[] | null {
    const first = this.#begins[this.#head];
    if (first === undefined) return null;
    const offset = position - (first - 1);
    if (offset < 0 || offset % 3 !== 0) return null;
    const index = this.#head + offset / 3;
    const end = this.#begins.length;
    if (index > end) return null;
    // At the run's end with records after it (a low-level transaction, a marker): only the file knows what they are.
    if (index === end && position < range.appendedLsn) return null;
    const out: RecentTransaction<E>[] = [];
    for (let i = index; i < end && out.length < max; i++) {
      const beginLsn = this.#begins[i] as number;
      if (beginLsn + 2 > range.upTo) break;
      if (beginLsn <= range.after) continue;
      // Added only while no low-level transaction was open: nothing else can commit after it from before it.
      const events = decodeEvents(this.#bytes[i] as Uint8Array, codec);
      out.push({ beginLsn, commitLsn: beginLsn + 2, events, restartLsn: beginLsn + 3 });
    }
    return out;
  }

  #dropOldest(): void {
    this.#heldBytes -= (this.#bytes[this.#head] as Uint8Array).byteLength;
    this.#bytes[this.#head] = EMPTY;
    this.#head++;
    // Compact now and then, so the arrays do not grow with every transaction ever added.
    if (this.#head >= 1024 && this.#head * 2 >= this.#begins.length) {
      this.#begins = this.#begins.slice(this.#head);
      this.#bytes = this.#bytes.slice(this.#head);
      this.#head = 0;
    }
  }
}

const EMPTY = new Uint8Array(0);

/** A `TxBegin` record: a header and a CRC, no payload. */
const BEGIN_BYTES = RECORD_HEADER_BYTES + RECORD_TRAILER_BYTES;

/**
 * The events of an encoded `commitTx` transaction: its second record is the `MutationBatch`, whose payload the codec
 * decodes. The frames are not checked again (no CRC pass): these are bytes this process encoded a moment ago and
 * kept in its own memory, which the file's bytes are not.
 */
function decodeEvents<E>(encoded: Uint8Array, codec: PayloadCodec<E>): E[] {
  const length = new DataView(encoded.buffer, encoded.byteOffset + BEGIN_BYTES, 4).getUint32(0, true);
  const payloadStart = BEGIN_BYTES + RECORD_HEADER_BYTES;
  const payloadEnd = BEGIN_BYTES + length - RECORD_TRAILER_BYTES;
  return codec.decodeBatch(encoded.subarray(payloadStart, payloadEnd));
}
