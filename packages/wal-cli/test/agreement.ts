/**
 * What each reader of a WAL directory makes of it, in one vocabulary, so tests can check that `Wal.open`, replay and
 * every `lora-wal` command agree: `clean`, `torn-tail`, `headerless`, `corruption`, `codec-mismatch`,
 * `bad-header`, `malformed`, or another error code.
 */

import { open } from "node:fs/promises";
import { Wal } from "@lora/wal";
import { bytesCodec, isWalError, jsonCodec, type PayloadCodec } from "@lora/wal-codec";
import { loraCodec } from "@lora/wal-codec/lora";
import { type RecoveryMode, replayDir } from "@lora/wal-replay";
import { decodeSegmentHeader, encodeSegmentHeader, SEGMENT_HEADER_BYTES } from "@lora/wal-segment";
import { dumpRecords, inspectDir, statDir, verifyDir } from "../src/index.js";
import type { CodecName } from "../src/read-options.js";
import { runCli } from "./helpers.js";

export type Outcome = string;

export const CODECS: Record<CodecName, PayloadCodec<unknown>> = {
  lora: loraCodec as PayloadCodec<unknown>,
  json: jsonCodec as PayloadCodec<unknown>,
  bytes: bytesCodec as PayloadCodec<unknown>,
};

function fromError(error: unknown): Outcome {
  if (!isWalError(error)) throw error;
  switch (error.code) {
    case "WAL_CORRUPT":
      return "corruption";
    case "WAL_CODEC_MISMATCH":
      return "codec-mismatch";
    case "WAL_BAD_HEADER":
      return "bad-header";
    case "WAL_MALFORMED":
      return "malformed";
    case "WAL_TORN_TAIL":
      return "torn-tail";
    default:
      return error.code;
  }
}

/** Replay's classification in `mode` (default `tolerate-torn-tail`): what it threw, or what it reported. */
export async function replayOutcome(dir: string, codec: CodecName, mode?: RecoveryMode): Promise<Outcome> {
  let outcome: Awaited<ReturnType<ReturnType<typeof replayDir>["outcome"]>>;
  try {
    outcome = await replayDir(dir, {
      codec: CODECS[codec],
      ...(mode === undefined ? {} : { recovery: mode }),
    }).outcome();
  } catch (error) {
    return fromError(error);
  }
  if (outcome.corruption !== null) return "corruption";
  if (outcome.tornTail !== null) return "torn-tail";
  if (outcome.headerlessLastSegment !== null) return "headerless";
  return "clean";
}

/**
 * What `Wal.open` in `mode` did: the error it threw, or the damage it repaired (`clean` when it repaired none).
 * Changes the directory when it repairs: call it last.
 */
export async function openOutcome(dir: string, codec: CodecName | undefined, mode?: RecoveryMode): Promise<Outcome> {
  try {
    const { wal, healed } = await Wal.open<unknown>(dir, {
      ...(codec === undefined ? {} : { codec: CODECS[codec] }),
      ...(mode === undefined ? {} : { recovery: mode }),
    });
    await wal.close();
    const kinds = healed.map((h) => h.kind);
    if (kinds.includes("corruptionCut")) return "corruption";
    if (kinds.includes("tornTailTruncated")) return "torn-tail";
    if (kinds.includes("headerlessSegmentRemoved")) return "headerless";
    return "clean";
  } catch (error) {
    return fromError(error);
  }
}

/** What the CLI's own walk (`inspect`'s segment lines, `stat`, `dump`) classifies as the walk's first damage. */
export async function walkOutcome(dir: string, codec: CodecName): Promise<Outcome> {
  const report = await inspectDir(dir, { codec });
  return report.segments.find((s) => s.damage !== null)?.damage?.kind ?? "clean";
}

/** Every CLI view of `dir`: the walk's first damage, and each command's verdict and exit code. */
export async function cliOutcomes(dir: string, codec: CodecName) {
  const inspect = await inspectDir(dir, { codec });
  const verify = await verifyDir(dir, { codec });
  const stat = await statDir(dir, { codec });
  let dumpDamage: string | undefined;
  for await (const item of dumpRecords(dir, { codec })) {
    if (item.type === "damage") {
      dumpDamage = item.scan.damage?.kind;
      break;
    }
  }
  return {
    walk: inspect.segments.find((s) => s.damage !== null)?.damage?.kind ?? "clean",
    dump: dumpDamage ?? "clean",
    stat: stat.verdict.status,
    inspect: inspect.verdict.status,
    verify: verify.verdict.status,
  };
}

/** Exit codes of the four commands on `dir`. */
export async function cliExitCodes(dir: string, codec: CodecName): Promise<Record<string, number>> {
  const codes: Record<string, number> = {};
  for (const command of ["inspect", "verify", "dump", "stat"]) {
    codes[command] = (await runCli([command, dir, "--codec", codec])).code;
  }
  return codes;
}

/** Rewrite the header of the segment at `path` as sealed (what rotation does before it creates the next one). */
export async function sealHeader(path: string): Promise<void> {
  const file = await open(path, "r+");
  try {
    const raw = new Uint8Array(SEGMENT_HEADER_BYTES);
    await file.read(raw, 0, SEGMENT_HEADER_BYTES, 0);
    const header = decodeSegmentHeader(raw, path);
    await file.write(encodeSegmentHeader({ baseLsn: header.baseLsn, sealed: true, flags: header.flags }), 0, 32, 0);
  } finally {
    await file.close();
  }
}
