/** Options every programmatic entry point shares: the payload codec and progress hooks. */

import { bytesCodec, jsonCodec, loraCodec, type PayloadCodec } from "@lora/wal-codec";

/** The payload codecs the CLI knows (`--codec`). */
export type CodecName = "lora" | "json" | "bytes";

export const CODEC_NAMES: readonly CodecName[] = ["lora", "json", "bytes"];

/** Options every command function takes (`inspectDir`, `verifyDir`, `dumpRecords`, `statDir`). */
export interface ReadOptions {
  /** How mutation payloads are decoded. @default "lora" (LoraDB's LW1 events) */
  readonly codec?: CodecName;
  /** Called before reading with the number of bytes the command will read (for a progress bar). */
  readonly onTotal?: (bytes: number) => void;
  /** Called after every read with its byte count. */
  readonly onRead?: (bytes: number) => void;
}

/** The codec called `name`. */
export function codecFor(name: CodecName = "lora"): PayloadCodec<unknown> {
  switch (name) {
    case "lora":
      return loraCodec as PayloadCodec<unknown>;
    case "json":
      return jsonCodec as PayloadCodec<unknown>;
    case "bytes":
      return bytesCodec as PayloadCodec<unknown>;
    default:
      throw new RangeError(`unknown codec ${String(name)} (expected one of ${CODEC_NAMES.join(", ")})`);
  }
}
