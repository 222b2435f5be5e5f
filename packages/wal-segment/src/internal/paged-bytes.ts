/**
 * A growable byte array stored as 4 KiB pages with copy-on-write snapshots, so SimFS can take a file's durable
 * image at every sync and hand the same pages to many crash images without copying whole files.
 *
 * Invariant: bytes of a page beyond `size` are zero, so growing the file (by truncate or a write past the end)
 * exposes zeros without extra work. A missing page (`undefined`) reads as zeros.
 */

export const PAGE_BYTES = 4096;
const PAGE_SHIFT = 12;
const PAGE_MASK = PAGE_BYTES - 1;

export class PagedBytes {
  #pages: (Uint8Array | undefined)[];
  /** `#owned[i]` is true when page i belongs to this instance alone and may be written in place. */
  #owned: boolean[];
  #size: number;

  constructor(pages: (Uint8Array | undefined)[] = [], size = 0) {
    this.#pages = pages;
    this.#owned = new Array<boolean>(pages.length).fill(false);
    this.#size = size;
  }

  static from(bytes: Uint8Array): PagedBytes {
    const p = new PagedBytes();
    p.write(bytes, 0);
    return p;
  }

  get size(): number {
    return this.#size;
  }

  /** An independent copy sharing every page; both sides copy a page before writing it. O(pages). */
  snapshot(): PagedBytes {
    this.#owned.fill(false);
    return new PagedBytes(this.#pages.slice(), this.#size);
  }

  /** Copy up to `length` bytes at `position` into `dst[dstOffset..]`; returns the count (short only at the end). */
  read(dst: Uint8Array, dstOffset: number, length: number, position: number): number {
    const end = Math.min(this.#size, position + length);
    if (position >= end) return 0;
    let pos = position;
    let out = dstOffset;
    while (pos < end) {
      const index = pos >>> PAGE_SHIFT;
      const inPage = pos & PAGE_MASK;
      const n = Math.min(PAGE_BYTES - inPage, end - pos);
      const page = this.#pages[index];
      if (page === undefined) dst.fill(0, out, out + n);
      else dst.set(page.subarray(inPage, inPage + n), out);
      pos += n;
      out += n;
    }
    return end - position;
  }

  /** Write `src` at `position`, growing the array (a gap reads as zeros). */
  write(src: Uint8Array, position: number): void {
    const end = position + src.byteLength;
    let pos = position;
    let from = 0;
    while (pos < end) {
      const index = pos >>> PAGE_SHIFT;
      const inPage = pos & PAGE_MASK;
      const n = Math.min(PAGE_BYTES - inPage, end - pos);
      this.#ownPage(index).set(src.subarray(from, from + n), inPage);
      pos += n;
      from += n;
    }
    if (end > this.#size) this.#size = end;
  }

  /** Cut or zero-extend to `length` bytes. */
  truncate(length: number): void {
    if (length < this.#size) {
      const keep = (length + PAGE_MASK) >>> PAGE_SHIFT;
      this.#pages.length = Math.min(this.#pages.length, keep);
      this.#owned.length = this.#pages.length;
      const inPage = length & PAGE_MASK;
      // Keep the invariant: the tail of the last kept page must read as zeros if the file grows again.
      if (inPage !== 0 && this.#pages[keep - 1] !== undefined) this.#ownPage(keep - 1).fill(0, inPage);
    }
    this.#size = length;
  }

  /** Whether both hold the same bytes. Pages shared by snapshots are not compared; a missing page equals zeros. */
  equals(other: PagedBytes): boolean {
    if (this.#size !== other.#size) return false;
    const pages = Math.max(this.#pages.length, other.#pages.length);
    for (let i = 0; i < pages; i++) {
      const a = this.#pages[i];
      const b = other.#pages[i];
      if (a === b) continue;
      // Bytes past the size are zeros in both (the invariant), so whole pages compare.
      if (a === undefined) {
        if (!(b as Uint8Array).every((v) => v === 0)) return false;
      } else if (b === undefined) {
        if (!a.every((v) => v === 0)) return false;
      } else if (!a.every((v, j) => v === b[j])) return false;
    }
    return true;
  }

  /** The contents as one fresh `Uint8Array`. */
  toUint8Array(): Uint8Array {
    const out = new Uint8Array(this.#size);
    this.read(out, 0, this.#size, 0);
    return out;
  }

  #ownPage(index: number): Uint8Array {
    while (this.#pages.length <= index) {
      this.#pages.push(undefined);
      this.#owned.push(false);
    }
    const page = this.#pages[index];
    if (page !== undefined && this.#owned[index] === true) return page;
    const fresh = new Uint8Array(PAGE_BYTES);
    if (page !== undefined) fresh.set(page);
    this.#pages[index] = fresh;
    this.#owned[index] = true;
    return fresh;
  }
}
