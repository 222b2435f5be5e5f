/**
 * Which codec a command reads with: the one asked for (`--codec`, `--codec-module`), or, when none was, the default
 * (`lora`) if it decodes the log's first mutation record and framing only if it does not. The rule is the one
 * replay's codec-mismatch check applies (the first CRC-valid payload-bearing record of the walk), so a log the
 * default reads is read exactly as before, and a log of another codec is never judged by a codec it was not
 * written with.
 */

import { basename } from "node:path";
import { isWalError, type PayloadCodec } from "@lora/wal-codec";
import { SegmentReader, type WalFileSystem } from "@lora/wal-segment";
import { type CodecName, type CodecUse, codecFor, type ReadOptions } from "../read-options.js";
import { createReadOnlyFileSystem } from "./read-only-fs.js";
import type { WalTarget } from "./wal-target.js";

/** The codec a command reads with, and how it was chosen. */
export interface ChosenCodec {
  readonly codec: PayloadCodec<unknown>;
  readonly use: CodecUse;
}

const DEFAULT_CODEC: CodecName = "lora";

/** A payload as it is: what the probe hands the default codec. */
const capture: PayloadCodec<Uint8Array> = {
  name: "capture",
  encodeEvent: () => undefined,
  encodeBatch: () => undefined,
  decodeEvent: (payload) => payload.slice(),
  decodeBatch: (payload) => [payload.slice()],
};

/**
 * Choose the codec for `target` from `options`, and tell `options.onCodec`. The probe reads through a read-only
 * file system of its own, so its few reads are not counted by `options.onRead` (a progress bar counts the
 * command's reading only).
 * @throws {@link @lora/wal-codec!WalError} `WAL_IO` when a segment cannot be read while probing.
 */
export async function chooseCodec(target: WalTarget, options: ReadOptions): Promise<ChosenCodec> {
  const chosen = await choose(createReadOnlyFileSystem(), target, options);
  options.onCodec?.(chosen.use);
  return chosen;
}

/**
 * `options` with an `onCodec` that is told a choice only when it differs from the last one it was told: a scan that
 * starts again from a new listing chooses again, and the same choice a second time is no news (`dump` would warn
 * of a fallback twice).
 */
export function tellCodecChanges<O extends ReadOptions>(options: O): O {
  const onCodec = options.onCodec;
  if (onCodec === undefined) return options;
  let told: string | undefined;
  return {
    ...options,
    onCodec: (use: CodecUse) => {
      const key = JSON.stringify(use);
      if (key === told) return;
      told = key;
      onCodec(use);
    },
  };
}

async function choose(fs: WalFileSystem, target: WalTarget, options: ReadOptions): Promise<ChosenCodec> {
  if (options.payloadCodec !== undefined) {
    const codec = options.payloadCodec;
    return { codec, use: { name: codec.name, framingOnly: false, source: "module" } };
  }
  if (options.codec !== undefined) {
    const framingOnly = options.codec === "framing";
    return { codec: codecFor(options.codec), use: { name: options.codec, framingOnly, source: "option" } };
  }
  const codec = codecFor(DEFAULT_CODEC);
  const refusal = await firstPayloadRefusal(fs, target, codec);
  if (refusal === undefined) return { codec, use: { name: DEFAULT_CODEC, framingOnly: false, source: "default" } };
  return {
    codec: codecFor("framing"),
    use: { name: "framing", framingOnly: true, source: "fallback", fallback: { codec: DEFAULT_CODEC, ...refusal } },
  };
}

/**
 * Where and why `codec` refuses the first CRC-valid mutation record of `target`; `undefined` when it decodes it or
 * there is none. Damage and unreadable headers are stepped over (the commands report them); only a payload decides.
 */
async function firstPayloadRefusal(
  fs: WalFileSystem,
  target: WalTarget,
  codec: PayloadCodec<unknown>,
): Promise<{ segment: string; offset: number; lsn: number; message: string } | undefined> {
  for (const segment of target.segments) {
    let reader: SegmentReader;
    try {
      reader = await SegmentReader.open(fs, segment.path);
    } catch (error) {
      if (isWalError(error, "WAL_BAD_HEADER")) continue;
      throw error;
    }
    try {
      for (;;) {
        const step = await reader.next(capture);
        if (step.kind !== "record") break;
        const r = step.record;
        if (r.kind !== "mutation" && r.kind !== "mutationBatch") continue;
        const payload = r.kind === "mutation" ? r.event : (r.events[0] as Uint8Array);
        try {
          if (r.kind === "mutation") codec.decodeEvent(payload);
          else codec.decodeBatch(payload);
          return undefined;
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          return { segment: basename(segment.path), offset: step.offset, lsn: r.lsn, message };
        }
      }
    } finally {
      await reader.close();
    }
  }
  return undefined;
}
