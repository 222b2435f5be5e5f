/**
 * LoraDB's LW1 payload codec for the write-ahead log: {@link loraCodec}, the {@link MutationEvent}s it carries, the
 * JavaScript shape of LoraDB's property values ({@link PropertyValue}, `LoraDate`, `LoraPoint`, ...) and the store
 * codec of index and constraint DDL. Byte-compatible with the engine's `lora-wal`.
 *
 * Record framing, errors and the `bytes`/`json` codecs are the package root, `@lora/wal-codec`.
 *
 * @packageDocumentation
 * @module @lora/wal-codec/lora
 */

export { DECODE_HEAP_BYTES_PER_INPUT_BYTE } from "./decode-budget.js";
export { loraCodec } from "./lora-codec.js";
export type { F64, PropertyMap, PropertyValue, VectorValues } from "./lora-values.js";
export {
  createPropertyMap,
  LoraBinary,
  LoraDate,
  LoraDateTime,
  LoraDuration,
  LoraFloat,
  LoraLocalDateTime,
  LoraLocalTime,
  LoraPoint,
  LoraTime,
  LoraVector,
} from "./lora-values.js";
export { decodeLw1Batch, decodeLw1Event } from "./lw1-decode.js";
export { encodeLw1Batch, encodeLw1Event } from "./lw1-encode.js";
export { LW1_MAGIC, MAX_NESTING_DEPTH } from "./lw1-format.js";
export {
  MUTATION_EVENT_TYPES,
  type MutationEvent,
  type MutationEventOf,
  type MutationEventType,
} from "./mutation-event.js";
export type {
  ConstraintRequest,
  IndexConfigMap,
  IndexConfigValue,
  IndexEntity,
  IndexKind,
  IndexRequest,
  PropertyTypeTerm,
  ScalarType,
  SimpleConstraintKind,
  VectorCoordType,
} from "./store-ddl.js";
export { decodeConstraintRequest, decodeIndexRequest, writeConstraintRequest, writeIndexRequest } from "./store-ddl.js";
export { compareUtf8 } from "./utf8-order.js";
export {
  LORA_VALUE_TYPES,
  LORA_VECTOR_ELEMENTS,
  type LoraFieldKind,
  type LoraValueField,
  type LoraValueShape,
  type LoraValueType,
  type LoraVectorElement,
  loraValueTypeOf,
  loraVectorElementOf,
} from "./value-types.js";
