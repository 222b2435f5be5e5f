/**
 * The LW1 decoder's heap budget. Every object, array, string and typed array the decoder is about to build is
 * charged first, at an upper bound of what V8 allocates for it, and a payload whose charges pass
 * {@link DECODE_HEAP_BYTES_PER_INPUT_BYTE} × its length is refused with `WAL_DECODE` before the allocation that
 * would pass it. So a hostile payload (a CRC-valid record of nothing but the cheapest encodings) cannot make the
 * decoded value outgrow its input by more than that constant, and a refusal costs at most the budget.
 *
 * What is guaranteed, on any input: the charges for what a decode returns never pass 16 × the payload length, plus
 * 16 bytes (`LIST_TERM_ALLOWANCE_BYTES`) for each `List` term of a property-type constraint (so at most 24 × the length of
 * a payload of nothing else; see `DecodeBudget.allowListTerm`). That
 * the charges bound the real heap rests on the size table below: V8's sizes on a 64-bit build without pointer
 * compression (Node's official builds; smaller everywhere else), measured with `scripts/decode-heap.mjs`, which
 * prints the retained heap next to the charges for each hostile and realistic shape (on Node 20 the heap is at or
 * below the charge for every one of them). The charges cover what the decoded value holds, not the allocator's
 * garbage while building (a dictionary's earlier capacities, a list's elements-kind change, V8's dictionary phase
 * for arrays of more than 2^25 elements), which is collectable when the decoder returns. Shared values (the frozen
 * `Clear` event and `Scalar` type terms, `""`) cost only the slot that refers to them.
 */

import { WalError } from "../errors.js";

/** The most JS heap a decoded LW1 payload may hold, per payload byte (the whole payload, magic included). */
export const DECODE_HEAP_BYTES_PER_INPUT_BYTE = 16;

/**
 * What a property-type constraint's `List` term adds to the budget. The term is 2 bytes on the wire (a tag and its
 * not-null flag) and a 48-byte object decoded, which cannot be shared (each refers to its own inner term): 24 bytes
 * of heap per byte, above the general rate. LoraDB logs such terms nested as deep as a query writes them (60 levels
 * take 120 bytes), and nesting is bounded (512 levels), so each is allowed its own 48 bytes rather than refused.
 */
export const LIST_TERM_ALLOWANCE_BYTES = 16;

/** Object header: map, properties and elements pointers. */
export const OBJECT_BYTES = 24;
/** One tagged slot: an in-object field or an array element. */
export const SLOT_BYTES = 8;
/** An array without its slots: the JSArray (32) and its FixedArray header (16). */
export const ARRAY_BYTES = 48;
/** A BigInt of one 64-bit digit (every i64 and u64). */
export const BIGINT_BYTES = 24;
/** A boxed double (a Float that is not a small integer). */
export const NUMBER_BYTES = 16;
/** A string's header and padding; its characters cost at most 2 bytes per UTF-8 byte (two-byte strings). */
export const STRING_BYTES = 24;
/**
 * A typed array with a buffer of its own (JSTypedArray and JSArrayBuffer, 184 measured; the contents are charged
 * apart, though they live outside the JS heap).
 */
export const TYPED_ARRAY_BYTES = 192;
/** A typed array viewing a shared buffer (binary segments copied into the shared slab). */
export const TYPED_VIEW_BYTES = 96;
/** An empty map, or one of array-index keys only: a fast null-prototype object with 4 reserved in-object slots. */
export const EMPTY_MAP_BYTES = 56;
/**
 * A map with named keys: the object and its property dictionary, without the entries. A dictionary of `n` entries
 * takes 88 + 24 × capacity bytes with the object, and V8 keeps capacity ≤ 3n + 1 (measured up to 684 entries: it
 * doubles at 4, 6, 12, 22, 44, 86, … entries), so 112 + {@link MAP_ENTRY_BYTES} × n bounds it; 8 bytes of margin.
 */
export const MAP_BYTES = 120;
/** The elements dictionary of a map of array-index keys only, without its entries (143 bytes with 1 to 3). */
export const INDEX_DICTIONARY_BYTES = 80;
/** The elements dictionary of a map with named keys too, without its entries (216 bytes with 1 entry). */
export const NAMED_INDEX_DICTIONARY_BYTES = 152;
/** One map entry: three words in a dictionary of up to three times as many slots as entries. */
export const MAP_ENTRY_BYTES = 72;

/** An object of `fields` fields (an event, a request, a type term, a value class). */
export const objectBytes = (fields: number): number => OBJECT_BYTES + SLOT_BYTES * fields;

/** An array of `n` elements (not what they refer to). */
export const arrayBytes = (n: number): number => ARRAY_BYTES + SLOT_BYTES * n;

/** A string decoded from `utf8Bytes` bytes; the empty string is shared. */
export const stringBytes = (utf8Bytes: number): number => (utf8Bytes === 0 ? 0 : STRING_BYTES + 2 * utf8Bytes);

/**
 * The budget of one decode: {@link DECODE_HEAP_BYTES_PER_INPUT_BYTE} × the payload length, less what has been
 * charged. Nested store-codec requests (CreateIndex, CreateConstraint) draw on the budget of their event's payload.
 */
export class DecodeBudget {
  readonly #inputBytes: number;
  #limit: number;
  #left: number;

  constructor(inputBytes: number) {
    this.#inputBytes = inputBytes;
    this.#limit = inputBytes * DECODE_HEAP_BYTES_PER_INPUT_BYTE;
    this.#left = this.#limit;
  }

  /**
   * Bytes the decoded value may occupy in all: {@link DECODE_HEAP_BYTES_PER_INPUT_BYTE} × the payload length, plus
   * what {@link allowListTerm} added.
   */
  get limit(): number {
    return this.#limit;
  }

  /**
   * Add {@link LIST_TERM_ALLOWANCE_BYTES} for one `List` term read from the payload (its 2 bytes then pay for its
   * 48-byte object). Called once per term actually read, so the addition is bounded by half the payload's bytes.
   */
  allowListTerm(): void {
    this.#limit += LIST_TERM_ALLOWANCE_BYTES;
    this.#left += LIST_TERM_ALLOWANCE_BYTES;
  }

  /** Bytes charged so far: an upper bound of the heap the decoded value holds. */
  get charged(): number {
    return this.#limit - this.#left;
  }

  /** Give back `bytes` charged for something the decoded value no longer holds (it is garbage). */
  refund(bytes: number): void {
    this.#left += bytes;
  }

  /**
   * Charge `bytes` before building what they stand for.
   * @throws {@link WalError} `WAL_DECODE` when the charges would pass the limit.
   */
  charge(bytes: number): void {
    const left = this.#left - bytes;
    if (left < 0) {
      throw new WalError(
        "WAL_DECODE",
        `WAL mutation payload expands beyond ${DECODE_HEAP_BYTES_PER_INPUT_BYTE} bytes of heap per input byte ` +
          `(more than ${this.#limit} bytes for a ${this.#inputBytes}-byte payload, with its List terms' allowance)`,
      );
    }
    this.#left = left;
  }
}
