/**
 * Tag numbers of LoraDB's LW1 payload codec (docs/format.md, 'The LW1 payload'). All little-endian; every count
 * and length is a u64.
 */

/** `LW1\0`: the first four bytes of every mutation payload, single or batch. */
export const LW1_MAGIC = new Uint8Array([0x4c, 0x57, 0x31, 0x00]);

/** Mutation tags (u8 before the event fields). */
export const TAG_CREATE_NODE = 1;
export const TAG_CREATE_RELATIONSHIP = 2;
export const TAG_SET_NODE_PROPERTY = 3;
export const TAG_REMOVE_NODE_PROPERTY = 4;
export const TAG_ADD_NODE_LABEL = 5;
export const TAG_REMOVE_NODE_LABEL = 6;
export const TAG_SET_RELATIONSHIP_PROPERTY = 7;
export const TAG_REMOVE_RELATIONSHIP_PROPERTY = 8;
export const TAG_DELETE_RELATIONSHIP = 9;
export const TAG_DELETE_NODE = 10;
export const TAG_DETACH_DELETE_NODE = 11;
export const TAG_CLEAR = 12;
export const TAG_CREATE_INDEX = 13;
export const TAG_DROP_INDEX = 14;
export const TAG_CREATE_CONSTRAINT = 15;
export const TAG_DROP_CONSTRAINT = 16;

/** Tags of the property values that are JavaScript primitives, arrays and objects (u8 before the value body). */
export const VALUE_NULL = 0;
export const VALUE_BOOL = 1;
export const VALUE_INT = 2;
export const VALUE_FLOAT = 3;
export const VALUE_STRING = 4;
export const VALUE_LIST = 5;
export const VALUE_MAP = 6;
// Tags 7 to 15 (Date … Binary) and the vector element subtags are in `value-types.ts`, with their field layouts.

/** Nesting limit for lists, maps and property-type terms; deeper input is rejected instead of overflowing the stack. */
export const MAX_NESTING_DEPTH = 512;

/** The bits of the NaN that JavaScript produces; other NaN bit patterns decode to `LoraFloat`. */
export const CANONICAL_NAN_BITS = 0x7ff8_0000_0000_0000n;

/** True when typed arrays are little-endian here, so vector elements can be copied as raw bytes. */
export const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
