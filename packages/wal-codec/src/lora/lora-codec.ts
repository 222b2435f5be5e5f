/**
 * `loraCodec`: the {@link PayloadCodec} for LoraDB's LW1 mutation payloads, byte-compatible with `lora-wal` ≥ 0.9
 * (docs/format.md, 'The LW1 payload'). Kind 1 records carry `encodeEvent` payloads, kind 6 `encodeBatch` payloads.
 */

import { declareFreshBatches } from "../fresh-batches.js";
import type { PayloadCodec } from "../payload-codec.js";
import { decodeLw1Batch, decodeLw1Event } from "./lw1-decode.js";
import { encodeLw1Batch, encodeLw1Event } from "./lw1-encode.js";
import type { MutationEvent } from "./mutation-event.js";

/**
 * LoraDB's LW1 codec.
 *
 * Normalisations on a round trip: booleans (values and DDL flags) decode any non-zero byte as `true` and encode as
 * 1; map keys are written sorted by UTF-8 bytes and decoded into `null`-prototype objects; a NaN with non-canonical
 * bits decodes as {@link LoraFloat}. Everything else re-encodes byte for byte.
 *
 * @example
 * ```ts
 * const out = new ByteWriter();
 * loraCodec.encodeEvent({ type: "DeleteNode", nodeId: 7n }, out);
 * loraCodec.decodeEvent(out.copy()); // { type: "DeleteNode", nodeId: 7n }
 * ```
 */
export const loraCodec: PayloadCodec<MutationEvent> = {
  name: "lora",
  encodeEvent: encodeLw1Event,
  encodeBatch: encodeLw1Batch,
  decodeEvent: decodeLw1Event,
  decodeBatch: decodeLw1Batch,
};
declareFreshBatches(loraCodec);
