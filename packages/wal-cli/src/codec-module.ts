/**
 * `--codec-module <file>`: a store author's own `PayloadCodec`, loaded from an ES module. The module exports the
 * codec as `codec` (`export const codec = { … }`) or, when it has no `codec` export, as its default export
 * (`export default { … }`). The CLI only reads, so it calls `name`, `decodeEvent` and `decodeBatch`, never the
 * encode methods.
 */

import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { isWalError, type PayloadCodec, payloadCodecProblem, shownError, WalError } from "@lora/wal-codec";
import { codecOption, UsageError } from "./cli-context.js";
import type { ReadOptions } from "./read-options.js";

/** The first line of what the module threw: it may throw anything, so it is shown in a way that cannot throw. */
function firstLine(error: unknown): string {
  const text = shownError(error);
  return text.split("\n", 1)[0] ?? text;
}

/**
 * The codec options of a command line: `--codec <name>` or `--codec-module <file>` (loaded here), or neither.
 * @throws {@link UsageError} for an unknown `--codec`, both options at once, or a module {@link loadCodecModule}
 *   refuses.
 */
export async function codecOptions(
  command: string,
  values: { readonly codec?: string | undefined; readonly "codec-module"?: string | undefined },
): Promise<Pick<ReadOptions, "codec" | "payloadCodec">> {
  const codec = codecOption(command, values.codec);
  const file = values["codec-module"];
  if (file === undefined) return codec === undefined ? {} : { codec };
  if (codec !== undefined) throw new UsageError("--codec and --codec-module exclude each other", command);
  return { payloadCodec: await loadCodecModule(command, file) };
}

/**
 * Load the codec `file` exports.
 * @throws {@link UsageError} (exit 3) when the file does not exist, does not load as an ES module (a syntax error,
 *   an import it cannot resolve, an exception at its top level), or exports no codec: neither `codec` nor a
 *   default export that is an object with a string `name` and functions `decodeEvent` and `decodeBatch`.
 */
export async function loadCodecModule(command: string, file: string): Promise<PayloadCodec<unknown>> {
  const path = resolve(file);
  const found = await stat(path).catch(() => null);
  if (found === null || !found.isFile()) {
    throw new UsageError(`--codec-module ${file}: no such file`, command);
  }
  let exports: Record<string, unknown>;
  try {
    exports = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (error) {
    throw new UsageError(`--codec-module ${file} did not load: ${firstLine(error)}`, command);
  }
  const which = "codec" in exports ? "codec" : "default";
  const candidate = exports[which];
  const problem = payloadCodecProblem(candidate, "read");
  if (problem !== undefined) {
    const what =
      which in exports
        ? `its ${which === "codec" ? "'codec'" : "default"} export ${problem}`
        : "it has neither a 'codec' export nor a default export";
    throw new UsageError(`--codec-module ${file} exports no payload codec: ${what}`, command);
  }
  return guarded(candidate as PayloadCodec<unknown>);
}

/**
 * The codec with its decoding held to the `PayloadCodec` contract: anything but a `WalError` it throws, and a
 * batch that is not an array, become `WAL_DECODE` (so the CLI reports the record, not a stack trace). Encoding is
 * refused: the CLI never writes.
 */
function guarded(codec: PayloadCodec<unknown>): PayloadCodec<unknown> {
  const decode = <T>(method: string, run: () => T): T => {
    try {
      return run();
    } catch (error) {
      if (isWalError(error)) throw error;
      throw new WalError("WAL_DECODE", `codec "${codec.name}" ${method} threw: ${firstLine(error)}`, { cause: error });
    }
  };
  const refuse = (): never => {
    throw new WalError("WAL_ENCODE", "lora-wal does not encode with a --codec-module codec");
  };
  return {
    name: codec.name,
    encodeEvent: refuse,
    encodeBatch: refuse,
    decodeEvent: (payload) => decode("decodeEvent", () => codec.decodeEvent(payload)),
    decodeBatch: (payload) => {
      const events = decode("decodeBatch", () => codec.decodeBatch(payload));
      if (!Array.isArray(events))
        throw new WalError("WAL_DECODE", `codec "${codec.name}" decodeBatch did not return an array`);
      return events;
    },
  };
}
