/**
 * How the decoder builds maps (property maps, map values, index options) so that their heap is bounded by a
 * constant per entry, whatever the keys.
 *
 * A decoded map is an ordinary extensible object with a `null` prototype; only its internal representation is
 * chosen here, which no JavaScript code can observe:
 *
 * - An empty map is a fast object (56 bytes; `Object.create(null)` would build a 184-byte dictionary).
 * - Named keys go into a property dictionary (`Object.create(null)`), which costs the same for any key set and
 *   creates no hidden classes.
 * - An array-index key ("0" … "4294967294") is an element, not a property. V8 keeps elements in a flat array as long
 *   as each new index is within 1024 of the array's capacity, so a map `{"1023": null}` (22 payload bytes) would get
 *   1552 slots (12 KiB). Before a map's first index key its elements are therefore switched to a dictionary for good:
 *   storing, then deleting, the index 4294967294 (above 2^29 - 1, which marks the dictionary as one that must stay
 *   a dictionary). That costs a dictionary entry (72 bytes) where dense keys ("0", "1", …) would have cost a slot,
 *   but the same for any key. A map whose keys are all indices keeps a fast object for its (absent) named
 *   properties.
 */

import {
  type DecodeBudget,
  EMPTY_MAP_BYTES,
  INDEX_DICTIONARY_BYTES,
  MAP_BYTES,
  MAP_ENTRY_BYTES,
  NAMED_INDEX_DICTIONARY_BYTES,
  stringBytes,
} from "./decode-budget.js";

/** The largest array index; storing it makes V8 keep the object's elements in a dictionary from then on. */
const SLOW_ELEMENTS_INDEX = 4_294_967_294;

/** A map with its elements in a dictionary for good (see the module comment). */
function withSlowElements<M extends object>(map: M): M {
  const elements = map as Record<number, unknown>;
  elements[SLOW_ELEMENTS_INDEX] = null;
  delete elements[SLOW_ELEMENTS_INDEX];
  return map;
}

/** A new empty null-prototype object in fast mode. */
function fastNullObject<M extends object>(): M {
  return Object.setPrototypeOf({}, null) as M;
}

/** An empty decoded map, charged to `budget` first. */
export function emptyMap<M extends object>(budget: DecodeBudget): M {
  budget.charge(EMPTY_MAP_BYTES);
  return fastNullObject<M>();
}

/**
 * True when the UTF-8 bytes `raw` spell an array index: decimal digits without a leading zero, at most
 * 4294967294. Such a key is stored as an element; every other key is a named property.
 */
export function isArrayIndexKey(raw: Uint8Array): boolean {
  const n = raw.length;
  if (n === 0 || n > 10) return false;
  const first = raw[0] as number;
  if (first < 0x30 || first > 0x39 || (first === 0x30 && n > 1)) return false;
  let value = first - 0x30;
  for (let i = 1; i < n; i++) {
    const c = raw[i] as number;
    if (c < 0x30 || c > 0x39) return false;
    value = value * 10 + (c - 0x30);
  }
  return value <= SLOW_ELEMENTS_INDEX;
}

/**
 * One non-empty map being decoded: {@link MapBuilder.prepare} each key's bytes (which charges for the entry, the key
 * and the representation the map needs), then store the entry in the map it returns.
 */
export class MapBuilder<M extends object> {
  /** The map so far; set by the first {@link MapBuilder.prepare}. */
  map: M | undefined = undefined;
  /** The map is a dictionary-mode object (it has a named key). */
  #named = false;
  /** Its elements are a dictionary for good (it has an index key). */
  #indexed = false;

  /** Make the map ready to take the key spelt by `raw`, charging `budget` first; returns the map to store into. */
  prepare(raw: Uint8Array, budget: DecodeBudget): M {
    let map = this.map;
    if (isArrayIndexKey(raw)) {
      // The key string is garbage once stored: an element is keyed by its number.
      budget.charge(MAP_ENTRY_BYTES);
      if (map === undefined) {
        budget.charge(EMPTY_MAP_BYTES + INDEX_DICTIONARY_BYTES);
        map = this.map = withSlowElements(fastNullObject<M>());
        this.#indexed = true;
      } else if (!this.#indexed) {
        budget.charge(NAMED_INDEX_DICTIONARY_BYTES);
        withSlowElements(map);
        this.#indexed = true;
      }
      return map;
    }
    budget.charge(MAP_ENTRY_BYTES + stringBytes(raw.length));
    if (map === undefined) {
      budget.charge(MAP_BYTES);
      map = this.map = Object.create(null) as M;
      this.#named = true;
    } else if (!this.#named) {
      // Index keys came first: move them into a dictionary map (once per map), so named keys add no hidden classes.
      // The index-only map becomes garbage; its entries were charged per entry and are now the new map's.
      budget.charge(MAP_BYTES + NAMED_INDEX_DICTIONARY_BYTES);
      const named = withSlowElements(Object.create(null) as Record<string, unknown>);
      const old = map as Record<string, unknown>;
      for (const k of Object.keys(old)) named[k] = old[k];
      map = this.map = named as M;
      this.#named = true;
      budget.refund(EMPTY_MAP_BYTES + INDEX_DICTIONARY_BYTES);
    }
    return map;
  }
}
