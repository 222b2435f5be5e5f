import type { PayloadCodec } from "@lora/wal-codec";
import { WalError } from "@lora/wal-codec";

/** A codec that decodes nothing: the boundary map needs records' framing and LSNs only. */
export const framingOnly: PayloadCodec<never> = {
  name: "framing-only",
  encodeEvent: () => {
    throw new WalError("WAL_ENCODE", "the framing-only codec cannot encode");
  },
  encodeBatch: () => {
    throw new WalError("WAL_ENCODE", "the framing-only codec cannot encode");
  },
  decodeEvent: () => undefined as never,
  decodeBatch: () => [],
};
