/**
 * `lora-wal dump <dir>`: every record (or those the filters keep), in log order, with decoded payloads; damage is
 * reported where the walk meets it and the walk goes on with the next segment.
 */

import {
  copyOfArray,
  isWalError,
  MAX_ARRAY_ARGUMENT_LENGTH,
  optionNames,
  optionOr,
  RECORD_HEADER_BYTES,
  RECORD_TRAILER_BYTES,
  type RecordKind,
  RecordKindByte,
  readCallerValue,
  shownValue,
  WalError,
} from "@lora/wal-codec";
import type { SegmentIdHoleJudgement } from "@lora/wal-replay";
import { SegmentReader, type WalFileSystem } from "@lora/wal-segment";
import {
  COMMON_OPTIONS,
  type CommandContext,
  countOption,
  ExitCode,
  lsnOption,
  onePath,
  parseCommand,
  READ_OPTIONS,
  UsageError,
} from "../cli-context.js";
import { codecOptions } from "../codec-module.js";
import { eventText } from "../format/event-text.js";
import { eventToJson, type JsonOut } from "../format/exact-json.js";
import { type CodecUse, checkReadOptions, READ_OPTION_NAMES, type ReadOptions } from "../read-options.js";
import { chooseCodec, tellCodecChanges } from "../scan/choose-codec.js";
import { createReadOnlyFileSystem } from "../scan/read-only-fs.js";
import { type SegmentScan, scanTarget } from "../scan/scan-segments.js";
import { coveredHoleNote, judgeListingHoles, lostSegmentsText } from "../scan/segment-id-holes.js";
import {
  goneSegmentError,
  type ListingCount,
  resolveTarget,
  SCAN_LISTINGS,
  segmentGoneSinceListing,
  type WalTarget,
} from "../scan/wal-target.js";
import { codecLine, verdictFromScans } from "../verdict.js";
import { CODEC_OPTIONS_HELP } from "./codec-options-help.js";

/** Every record kind, in kind-byte order. */
export const RECORD_KINDS: readonly RecordKind[] = Object.keys(RecordKindByte) as RecordKind[];

/** Options of {@link dumpRecords}: the {@link ReadOptions} plus filters. */
export interface DumpOptions extends ReadOptions {
  /** Only records with `lsn >= fromLsn`. */
  readonly fromLsn?: number;
  /** Only records with `lsn <= toLsn`; the walk stops at the first record past it (LSNs only increase). */
  readonly toLsn?: number;
  /**
   * Only these kinds. An array of at most `MAX_ARRAY_ARGUMENT_LENGTH` (2^24) elements: a longer one is refused
   * (`WAL_INVALID_OPTION`) before any is read. @default every kind
   */
  readonly kinds?: readonly RecordKind[];
  /**
   * Only the transaction begun at this LSN: its begin, mutations and commit or abort. An LSN that is not a
   * `txBegin` record's is refused with {@link NotABeginLsnError}.
   */
  readonly tx?: number;
  /** Stop after this many records. */
  readonly limit?: number;
}

/** Every option of {@link DumpOptions}; any other name is refused (`WAL_INVALID_OPTION`). */
const DUMP_OPTION_NAMES = optionNames<DumpOptions>()(...READ_OPTION_NAMES, "fromLsn", "toLsn", "kinds", "tx", "limit");

/** One record as `dump` reports it. */
export interface DumpedRecord {
  readonly type: "record";
  /** Segment file name, e.g. `0000000001.wal`. */
  readonly segment: string;
  /** Byte offset of the record in the segment file. */
  readonly offset: number;
  readonly kind: RecordKind;
  readonly lsn: number;
  /** The owning transaction's begin LSN (mutations, commit, abort). */
  readonly txBeginLsn?: number;
  /** Checkpoint markers: the snapshot LSN. */
  readonly snapshotLsn?: number;
  /** Record length in bytes, framing included. */
  readonly length: number;
  /** Decoded events (mutation records; one for kind `mutation`); absent when the log is read framing only. */
  readonly events?: readonly unknown[];
  /** Framing only: the size of a mutation record's payload, which was not decoded. */
  readonly payloadBytes?: number;
}

/**
 * `dumpRecords` was asked for the transaction begun at `lsn` (`tx`), and the record at `lsn` is not a `txBegin`
 * (`found` is its kind), or no record has that LSN (`found` is `null`).
 */
export class NotABeginLsnError extends RangeError {
  override readonly name = "NotABeginLsnError";
  readonly lsn: number;
  readonly found: RecordKind | null;
  constructor(lsn: number, found: RecordKind | null) {
    super(
      found === null
        ? `--tx ${lsn}: no record has LSN ${lsn}, so no transaction begins there`
        : `--tx ${lsn}: LSN ${lsn} is a ${found} record, not a transaction's begin (txBegin)`,
    );
    this.lsn = lsn;
    this.found = found;
  }
}

/** Damage met while dumping; the segment's remaining bytes are skipped. */
export interface DumpDamage {
  readonly type: "damage";
  readonly scan: SegmentScan;
}

/** What {@link dumpRecords} yields: a record, or damage met while reading (the walk then goes on). */
export type DumpItem = DumpedRecord | DumpDamage;

/**
 * Stream the records of a WAL directory (or one segment file), read-only. Read framing only (`codec: "framing"`,
 * or the fallback when no codec is chosen and the default does not decode the log), a mutation record has
 * `payloadBytes` instead of `events`.
 *
 * A segment a live writer's truncation removes between the listing and its read makes the walk start again from a
 * new listing (see {@link ReadOptions}) only while nothing has been yielded: items once yielded cannot be taken
 * back, so after the first one such a segment ends the walk with `WAL_IO`. The items always come from one listing.
 * @throws {@link @lora/wal-codec!WalError} `WAL_IO` when the path is missing or unreadable, or a listed segment is
 *   gone when read after an item was yielded, or before its stat or its read in each of 3 listings (3 in all).
 * @throws {@link NotABeginLsnError} when `tx` is not a transaction's begin LSN (after the records before it).
 * @example
 * ```ts
 * for await (const item of dumpRecords("./wal", { kinds: ["mutationBatch"], fromLsn: 100 })) {
 *   if (item.type === "record") console.log(item.lsn, item.events);
 * }
 * ```
 */
export function dumpRecords(path: string, input: DumpOptions = {}): AsyncGenerator<DumpItem> {
  return dumpListing(path, input, () => undefined);
}

/** {@link dumpRecords}, handing `onListing` each listing it reads from (a new one only while nothing was given). */
async function* dumpListing(
  path: string,
  input: DumpOptions,
  onListing: (target: WalTarget) => void,
): AsyncGenerator<DumpItem> {
  const options = checkDumpOptions(input);
  const fs = createReadOnlyFileSystem(options.onRead);
  const tell = tellCodecChanges(options);
  // What was yielded cannot be taken back (the CLI has printed it): a new listing only while nothing was, so the
  // items always come from one listing.
  let given = 0;
  let lastLsn: number | undefined;
  // One count for every listing of the command, resolveTarget's own included (see ListingCount).
  const listings: ListingCount = { made: 0 };
  for (;;) {
    const target = await resolveTarget(fs, path, listings);
    onListing(target);
    try {
      for await (const item of dumpTarget(fs, target, tell)) {
        given++;
        if (item.type === "record") lastLsn = item.lsn;
        yield item;
      }
      return;
    } catch (error) {
      const gone = await segmentGoneSinceListing(fs, target, error);
      if (gone === undefined) throw error;
      if (given > 0) {
        const upTo = lastLsn === undefined ? "" : ` (records up to LSN ${lastLsn})`;
        throw goneSegmentError(gone, `dump had already given ${given} items${upTo} and cannot take them back`, error);
      }
      if (listings.made < SCAN_LISTINGS) continue;
      throw goneSegmentError(gone, `a listed segment was gone in ${SCAN_LISTINGS} listings in a row`, error);
    }
  }
}

/** {@link dumpRecords} of one listing. */
async function* dumpTarget(fs: WalFileSystem, target: WalTarget, options: DumpOptions): AsyncGenerator<DumpItem> {
  const { codec, use } = await chooseCodec(target, options);
  // With --tx the walk must meet the record at that LSN, to tell whether a transaction begins there.
  const startLsn = Math.min(
    optionOr(options.fromLsn, Number.POSITIVE_INFINITY),
    optionOr(options.tx, Number.POSITIVE_INFINITY),
  );
  const startSegment = startLsn === Number.POSITIVE_INFINITY ? 0 : await firstSegmentFor(fs, target, startLsn);
  options.onTotal?.(target.segments.slice(startSegment).reduce((n, s) => n + s.size, 0));
  const kinds = options.kinds === undefined ? undefined : new Set(options.kinds);
  let emitted = 0;
  let txBeginSeen = false;
  for await (const event of scanTarget(target, { codec, fs, startSegment })) {
    if (event.type === "segment") {
      if (event.scan.damage !== null) yield { type: "damage", scan: event.scan };
      continue;
    }
    const r = event.record;
    if (options.toLsn !== undefined && r.lsn > options.toLsn) return;
    if (r.lsn === options.tx) {
      if (r.kind !== "txBegin") throw new NotABeginLsnError(r.lsn, r.kind);
      txBeginSeen = true;
    }
    if (options.fromLsn !== undefined && r.lsn < options.fromLsn) continue;
    if (kinds !== undefined && !kinds.has(r.kind)) continue;
    if (options.tx !== undefined) {
      const owner = r.kind === "txBegin" ? r.lsn : r.kind === "checkpoint" ? undefined : r.txBeginLsn;
      if (owner !== options.tx) continue;
    }
    const base = {
      type: "record",
      segment: event.segment.name,
      offset: event.offset,
      kind: r.kind,
      lsn: r.lsn,
    } as const;
    switch (r.kind) {
      case "txBegin":
        yield { ...base, length: event.byteLength };
        break;
      case "checkpoint":
        yield { ...base, snapshotLsn: r.snapshotLsn, length: event.byteLength };
        break;
      case "txCommit":
      case "txAbort":
        yield { ...base, txBeginLsn: r.txBeginLsn, length: event.byteLength };
        break;
      case "mutation":
      case "mutationBatch":
        yield {
          ...base,
          txBeginLsn: r.txBeginLsn,
          length: event.byteLength,
          ...(use.framingOnly
            ? { payloadBytes: event.byteLength - RECORD_HEADER_BYTES - RECORD_TRAILER_BYTES }
            : { events: r.kind === "mutation" ? [r.event] : r.events }),
        };
        break;
    }
    emitted++;
    if (options.limit !== undefined && emitted >= options.limit) return;
  }
  if (options.tx !== undefined && !txBeginSeen) throw new NotABeginLsnError(options.tx, null);
}

/**
 * The exact JSON object `dump --json` prints for a record: `{segment, offset, kind, lsn, txBeginLsn, snapshotLsn,
 * length, events, payloadBytes}` with events in the form of `eventToJson`. Every key is there for every kind of
 * record, however it was read, `null` where it does not apply: `txBeginLsn` on a begin or a checkpoint, `snapshotLsn`
 * on any record but a checkpoint, `events` on any record but a decoded mutation record, `payloadBytes` on any record
 * but a mutation record read framing only. So a script reading the lines meets one key set (the fields of
 * {@link DumpedRecord} are left out instead).
 */
export function dumpedRecordToJson(record: DumpedRecord, codecName: string): JsonOut {
  return {
    segment: record.segment,
    offset: record.offset,
    kind: record.kind,
    lsn: record.lsn,
    txBeginLsn: record.txBeginLsn ?? null,
    snapshotLsn: record.snapshotLsn ?? null,
    length: record.length,
    events: record.events === undefined ? null : eventsToJson(record.events, codecName),
    payloadBytes: record.payloadBytes ?? null,
  };
}

/**
 * The events of a record (or a transaction) as `dump --json` prints them: each in the exact form of
 * `eventToJson`. `follow --json` prints a transaction's events the same way.
 */
export function eventsToJson(events: readonly unknown[], codecName: string): JsonOut[] {
  return events.map((event) => eventToJson(event, codecName));
}

/**
 * The codec name `eventToJson` and `eventTextLines` are given for a `--codec-module` codec's events: none of the
 * built-in ones, so they print in the exact JSON form whatever the codec's own name (its values may hold bigints,
 * which plain JSON text cannot), in text as in `--json`.
 */
export const MODULE_RENDERING = "module";

/**
 * The events of a record (or a transaction) as `dump` prints them in text: one line each, indented under the line
 * they belong to. `follow` prints a transaction's events the same way.
 */
export function eventTextLines(events: readonly unknown[], codecName: string): string[] {
  if (codecName === MODULE_RENDERING) return eventsToJson(events, codecName).map((e) => `    ${JSON.stringify(e)}`);
  return events.map((event) => `    ${eventText(event, codecName)}`);
}

/**
 * The last segment whose base LSN is at or below `fromLsn`: every record before it has a smaller LSN, so the walk
 * can start there. Falls back to the first segment on any header it cannot read.
 */
async function firstSegmentFor(fs: WalFileSystem, target: WalTarget, fromLsn: number): Promise<number> {
  let start = 0;
  for (let i = 0; i < target.segments.length; i++) {
    const segment = target.segments[i];
    if (segment === undefined) break;
    let baseLsn: number;
    try {
      const reader = await SegmentReader.open(fs, segment.path);
      baseLsn = reader.header.baseLsn;
      await reader.close();
    } catch (error) {
      if (isWalError(error, "WAL_BAD_HEADER")) return 0;
      throw error;
    }
    if (baseLsn > fromLsn) break;
    start = i;
  }
  return start;
}

export const DUMP_HELP = `Usage: lora-wal dump <dir> [options]

Print the records of a WAL directory (or one segment file) in log order, with
decoded payloads. LoraDB events print like Cypher; 64-bit values are exact.
Damage is reported on stderr and the next segment is read.
Read-only: takes no lock, writes nothing.

A segment a live writer truncates after the listing and before its read makes
it start again from a new listing while it has printed nothing (3 listings at
most, then exit 4). Rows once printed are never printed again: after the first
row such a segment ends it with exit 4 (run again, --from-lsn past the last
row to go on).

Options:
      --from-lsn <n>  only records with lsn >= n
      --to-lsn <n>    only records with lsn <= n (stops there)
  -k, --kind <kind>   only these kinds (repeat or comma-separate): mutation,
                      mutationBatch, txBegin, txCommit, txAbort, checkpoint
      --tx <lsn>      only the transaction begun at this LSN (exit 3 when no
                      transaction begins there)
  -n, --limit <n>     stop after n records
${CODEC_OPTIONS_HELP}
      --json          one JSON object per line per record: {segment, offset,
                      kind, lsn, txBeginLsn, snapshotLsn, length, events,
                      payloadBytes}, null where a key does not apply
                      (payloadBytes: framing only)
  -q, --quiet         no progress bar
  -h, --help          show this help

Segment ids missing in the middle of the log are judged as verify judges them:
below a checkpoint marker after them that covers them, a truncation a crash
interrupted (a note names the checkpoint); otherwise corruption (exit 2).

Exit status: 0 no damage met, 1 torn tail (or a newest segment without a
header), 2 corruption (also segments missing that no checkpoint covers) or bad
header, 3 usage error (also a --codec-module that does not load or exports no
codec, and a --tx that is not a transaction's begin LSN), 4 path missing or
unreadable, 5 codec mismatch with the --codec or --codec-module given (run
again with the codec the log was written with).
`;

function kindsOption(values: string[] | undefined): RecordKind[] | undefined {
  if (values === undefined) return undefined;
  const kinds: RecordKind[] = [];
  for (const part of values.flatMap((v) => v.split(","))) {
    const name = part.trim();
    const kind = RECORD_KINDS.find((k) => k.toLowerCase() === name.toLowerCase());
    if (kind === undefined) {
      throw new UsageError(`unknown --kind ${JSON.stringify(name)} (expected ${RECORD_KINDS.join(", ")})`, "dump");
    }
    kinds.push(kind);
  }
  return kinds;
}

/** `lora-wal dump`. */
export async function runDump(args: string[], ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseCommand("dump", args, {
    ...COMMON_OPTIONS,
    ...READ_OPTIONS,
    "from-lsn": { type: "string" },
    "to-lsn": { type: "string" },
    kind: { type: "string", short: "k", multiple: true },
    tx: { type: "string" },
    limit: { type: "string", short: "n" },
  });
  if (values.help === true) {
    ctx.out.line(DUMP_HELP.trimEnd());
    return ExitCode.OK;
  }
  const path = onePath("dump", positionals);
  const codec = await codecOptions("dump", values);
  const fromLsn = lsnOption("dump", "from-lsn", values["from-lsn"]);
  const toLsn = lsnOption("dump", "to-lsn", values["to-lsn"]);
  const tx = lsnOption("dump", "tx", values.tx);
  const limit = countOption("dump", "limit", values.limit);
  if (fromLsn !== undefined && toLsn !== undefined && toLsn < fromLsn) {
    throw new UsageError(`--to-lsn ${toLsn} is below --from-lsn ${fromLsn}: no record could match`, "dump");
  }
  const kinds = kindsOption(values.kind);
  const json = values.json === true;
  let use: CodecUse | undefined;
  const read = ctx.readOptions("dump", codec, values.quiet === true);
  const onCodec = (chosen: CodecUse) => {
    use = chosen;
    // Said on stderr, so --json output stays one record per line.
    if (chosen.source === "fallback") ctx.warn(`codec: ${codecLine(chosen)}`);
  };
  const s = ctx.style;
  const damages: SegmentScan[] = [];
  // The table's header goes out with the first row (or at the end of a walk that found none), so a path that
  // cannot be read or a refused --tx prints only its error.
  let headerDue = !json;
  const header = () => {
    if (!headerDue) return;
    headerDue = false;
    ctx.out.line(
      s.dim(
        `${"SEGMENT".padEnd(14)}  ${"OFFSET".padStart(10)}  ${"LSN".padStart(10)}  ${"KIND".padEnd(13)}  ${"TX/SNAP".padStart(10)}  ${"LENGTH".padStart(8)}  EVENTS`,
      ),
    );
  };
  const codecName = () => (use?.source === "module" ? MODULE_RENDERING : (use?.name ?? "lora"));
  // Segment ids missing mid-log: rows that run on past records that are not there, judged as verify judges them
  // and said once the walk is done.
  let listed: WalTarget | undefined;
  const onListing = (target: WalTarget) => {
    listed = target;
  };
  let holeIsCorruption = false;
  try {
    for await (const item of dumpListing(
      path,
      {
        ...read.options,
        onCodec,
        ...(fromLsn === undefined ? {} : { fromLsn }),
        ...(toLsn === undefined ? {} : { toLsn }),
        ...(tx === undefined ? {} : { tx }),
        ...(limit === undefined ? {} : { limit }),
        ...(kinds === undefined ? {} : { kinds }),
      },
      onListing,
    )) {
      if (item.type === "damage") {
        await ctx.out.flush();
        read.done();
        damages.push(item.scan);
        const d = item.scan.damage;
        if (d !== null) ctx.warn(`${d.kind} in ${item.scan.name} at offset ${d.offset}: ${d.code}: ${d.message}`);
        continue;
      }
      if (json) {
        ctx.out.line(JSON.stringify(dumpedRecordToJson(item, codecName())));
      } else {
        header();
        const slot = item.snapshotLsn ?? item.txBeginLsn;
        ctx.out.line(
          `${item.segment.padEnd(14)}  ${String(item.offset).padStart(10)}  ${String(item.lsn).padStart(10)}  ${s.cyan(item.kind.padEnd(13))}  ${(slot === undefined ? "-" : String(slot)).padStart(10)}  ${String(item.length).padStart(8)}  ${eventsColumn(item)}`.trimEnd(),
        );
        for (const line of eventTextLines(item.events ?? [], codecName())) ctx.out.line(line);
      }
      await ctx.out.drain();
    }
    header();
    const judged = listed === undefined ? undefined : await judgeListedHoles(listed);
    if (judged !== undefined) {
      // After the rows, on stderr as the damage met is (stdout, --json included, stays the rows).
      await ctx.out.flush();
      read.done();
      if (judged.kind === "covered") ctx.warn(`note: ${coveredHoleNote(judged, "the rows")}`);
      else {
        holeIsCorruption = true;
        ctx.warn(`corruption: WAL_CORRUPT: ${lostSegmentsText(judged.holes)}`);
      }
    }
  } catch (error) {
    if (error instanceof NotABeginLsnError) throw new UsageError(error.message, "dump");
    throw error;
  } finally {
    read.done();
  }
  const { exitCode } = verdictFromScans(damages, use);
  // A hole no marker covers is corruption, as verify says; damage met in a segment that outranks it stays.
  return holeIsCorruption && exitCode < ExitCode.DAMAGED ? ExitCode.DAMAGED : exitCode;
}

/**
 * The judgement of the segment-id holes of the listing dump's rows came from ({@link judgeListingHoles}).
 * @throws {@link WalError} `WAL_IO` (`details.errno` `ENOENT`) when a segment after a hole was removed since the
 *   listing (a live writer truncating the log): the rows are out and cannot be judged on another listing, and a
 *   segment truncated away is no lost segment.
 */
async function judgeListedHoles(listed: WalTarget): Promise<SegmentIdHoleJudgement | undefined> {
  try {
    return await judgeListingHoles(listed);
  } catch (error) {
    const gone = await segmentGoneSinceListing(createReadOnlyFileSystem(), listed, error);
    if (gone === undefined) throw error;
    throw goneSegmentError(
      gone,
      "dump had already given its rows and cannot judge the hole before it on another listing",
      error,
    );
  }
}

/** The EVENTS column: the number of events, or (framing only) the payload's size. */
function eventsColumn(record: DumpedRecord): string {
  if (record.events !== undefined) return String(record.events.length);
  return record.payloadBytes === undefined ? "" : `? (${record.payloadBytes}-byte payload, not decoded)`;
}

/**
 * Check `dumpRecords`' options before anything is read, and return them each read once (what the dump uses).
 * @throws {@link WalError} `WAL_INVALID_OPTION` for a `fromLsn`, `toLsn` or `tx` that is not a non-negative safe
 *   integer, a `toLsn` below `fromLsn`, a `limit` that is not an integer of at least 1, `kinds` that is not an array of record kinds (at most
 *   `MAX_ARRAY_ARGUMENT_LENGTH` of them), or what
 *   {@link checkReadOptions} refuses.
 */
function checkDumpOptions(given: DumpOptions): DumpOptions {
  const options = checkReadOptions(given, "dumpRecords", DUMP_OPTION_NAMES);
  for (const name of ["fromLsn", "toLsn", "tx"] as const) {
    const value = options[name];
    if (value !== undefined && (!Number.isSafeInteger(value) || value < 0)) {
      throw new WalError("WAL_INVALID_OPTION", `${name} must be a non-negative safe integer, got ${shownValue(value)}`);
    }
  }
  if (options.fromLsn !== undefined && options.toLsn !== undefined && options.toLsn < options.fromLsn) {
    throw new WalError(
      "WAL_INVALID_OPTION",
      `toLsn ${options.toLsn} is below fromLsn ${options.fromLsn}: no record could match`,
    );
  }
  const limit = options.limit;
  if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 1)) {
    throw new WalError("WAL_INVALID_OPTION", `limit must be an integer of at least 1, got ${shownValue(limit)}`);
  }
  const kinds: unknown = options.kinds;
  if (kinds === undefined) return options;
  // Copied once, its length and each element read once: a proxy's traps may answer differently, or throw, the next
  // time, and the dump uses the copy that was checked. Stops at the first element that is not a kind; a length above
  // MAX_ARRAY_ARGUMENT_LENGTH is refused before any element is read.
  const copy = readCallerValue(
    () => copyOfArray(kinds, (kind): kind is RecordKind => RECORD_KINDS.includes(kind as RecordKind)),
    "WAL_INVALID_OPTION",
    "dumpRecords: reading kinds",
    { option: "kinds" },
  );
  if (copy === undefined) {
    throw new WalError(
      "WAL_INVALID_OPTION",
      `kinds must be an array of record kinds (${RECORD_KINDS.join(", ")}), at most ${MAX_ARRAY_ARGUMENT_LENGTH} of them, got ${shownValue(kinds)}`,
    );
  }
  return { ...options, kinds: copy };
}
