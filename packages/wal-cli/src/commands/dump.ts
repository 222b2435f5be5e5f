/**
 * `lora-wal dump <dir>`: every record (or those the filters keep), in log order, with decoded payloads; damage is
 * reported where the walk meets it and the walk goes on with the next segment.
 */

import { isWalError, type RecordKind, RecordKindByte } from "@lora/wal-codec";
import { SegmentReader, type WalFileSystem } from "@lora/wal-segment";
import {
  COMMON_OPTIONS,
  type CommandContext,
  codecOption,
  ExitCode,
  lsnOption,
  onePath,
  parseCommand,
  READ_OPTIONS,
  UsageError,
} from "../cli-context.js";
import { eventText } from "../format/event-text.js";
import { eventToJson, type JsonOut } from "../format/exact-json.js";
import { codecFor, type ReadOptions } from "../read-options.js";
import { createReadOnlyFileSystem } from "../scan/read-only-fs.js";
import { type SegmentScan, scanTarget } from "../scan/scan-segments.js";
import { resolveTarget, type WalTarget } from "../scan/wal-target.js";
import { verdictFromScans } from "../verdict.js";

/** Every record kind, in kind-byte order. */
export const RECORD_KINDS: readonly RecordKind[] = Object.keys(RecordKindByte) as RecordKind[];

/** Options of {@link dumpRecords}: the {@link ReadOptions} plus filters. */
export interface DumpOptions extends ReadOptions {
  /** Only records with `lsn >= fromLsn`. */
  readonly fromLsn?: number;
  /** Only records with `lsn <= toLsn`; the walk stops at the first record past it (LSNs only increase). */
  readonly toLsn?: number;
  /** Only these kinds. @default every kind */
  readonly kinds?: readonly RecordKind[];
  /** Only the transaction begun at this LSN: its begin, mutations and commit or abort. */
  readonly tx?: number;
  /** Stop after this many records. */
  readonly limit?: number;
}

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
  /** Decoded events (mutation records; one for kind `mutation`). */
  readonly events?: readonly unknown[];
}

/** Damage met while dumping; the segment's remaining bytes are skipped. */
export interface DumpDamage {
  readonly type: "damage";
  readonly scan: SegmentScan;
}

/** What {@link dumpRecords} yields: a record, or damage met while reading (the walk then goes on). */
export type DumpItem = DumpedRecord | DumpDamage;

/**
 * Stream the records of a WAL directory (or one segment file), read-only.
 * @throws {@link @lora/wal-codec!WalError} `WAL_IO` when the path is missing or unreadable.
 * @example
 * ```ts
 * for await (const item of dumpRecords("./wal", { kinds: ["mutationBatch"], fromLsn: 100 })) {
 *   if (item.type === "record") console.log(item.lsn, item.events);
 * }
 * ```
 */
export async function* dumpRecords(path: string, options: DumpOptions = {}): AsyncGenerator<DumpItem> {
  const fs = createReadOnlyFileSystem(options.onRead);
  const target = await resolveTarget(fs, path);
  const codec = codecFor(options.codec);
  const startSegment = options.fromLsn === undefined ? 0 : await firstSegmentFor(fs, target, options.fromLsn);
  options.onTotal?.(target.segments.slice(startSegment).reduce((n, s) => n + s.size, 0));
  const kinds = options.kinds === undefined ? undefined : new Set(options.kinds);
  let emitted = 0;
  for await (const event of scanTarget(target, { codec, fs, startSegment })) {
    if (event.type === "segment") {
      if (event.scan.damage !== null) yield { type: "damage", scan: event.scan };
      continue;
    }
    const r = event.record;
    if (options.toLsn !== undefined && r.lsn > options.toLsn) return;
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
        yield { ...base, txBeginLsn: r.txBeginLsn, length: event.byteLength, events: [r.event] };
        break;
      case "mutationBatch":
        yield { ...base, txBeginLsn: r.txBeginLsn, length: event.byteLength, events: r.events };
        break;
    }
    emitted++;
    if (options.limit !== undefined && emitted >= options.limit) return;
  }
}

/**
 * The exact JSON object `dump --json` prints for a record: `{segment, offset, kind, lsn, txBeginLsn|snapshotLsn,
 * length, events?}` with events in the form of `eventToJson`.
 */
export function dumpedRecordToJson(record: DumpedRecord, codecName: string): JsonOut {
  const out: { [key: string]: JsonOut } = {
    segment: record.segment,
    offset: record.offset,
    kind: record.kind,
    lsn: record.lsn,
  };
  if (record.txBeginLsn !== undefined) out.txBeginLsn = record.txBeginLsn;
  if (record.snapshotLsn !== undefined) out.snapshotLsn = record.snapshotLsn;
  out.length = record.length;
  if (record.events !== undefined) out.events = eventsToJson(record.events, codecName);
  return out;
}

/**
 * The events of a record (or a transaction) as `dump --json` prints them: each in the exact form of
 * `eventToJson`. `follow --json` prints a transaction's events the same way.
 */
export function eventsToJson(events: readonly unknown[], codecName: string): JsonOut[] {
  return events.map((event) => eventToJson(event, codecName));
}

/**
 * The events of a record (or a transaction) as `dump` prints them in text: one line each, indented under the line
 * they belong to. `follow` prints a transaction's events the same way.
 */
export function eventTextLines(events: readonly unknown[], codecName: string): string[] {
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

Options:
      --from-lsn <n>  only records with lsn >= n
      --to-lsn <n>    only records with lsn <= n (stops there)
  -k, --kind <kind>   only these kinds (repeat or comma-separate): mutation,
                      mutationBatch, txBegin, txCommit, txAbort, checkpoint
      --tx <lsn>      only the transaction begun at this LSN
  -n, --limit <n>     stop after n records
  -c, --codec <name>  payload codec: lora (default), json, bytes
      --json          one JSON object per line per record:
                      {segment, offset, kind, lsn, txBeginLsn|snapshotLsn, length, events?}
  -q, --quiet         no progress bar
  -h, --help          show this help

Exit status: 0 no damage met, 1 torn tail (or a newest segment without a
header), 2 corruption or bad header, 3 usage error, 4 path missing or
unreadable, 5 codec mismatch (run again with the codec the log was written with).
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
  const codec = codecOption("dump", values.codec) ?? "lora";
  const fromLsn = lsnOption("dump", "from-lsn", values["from-lsn"]);
  const toLsn = lsnOption("dump", "to-lsn", values["to-lsn"]);
  const tx = lsnOption("dump", "tx", values.tx);
  const limit = lsnOption("dump", "limit", values.limit);
  const kinds = kindsOption(values.kind);
  const read = ctx.readOptions("dump", codec, values.quiet === true);
  const json = values.json === true;
  const s = ctx.style;
  const damages: SegmentScan[] = [];
  if (!json) {
    ctx.out.line(
      s.dim(
        `${"SEGMENT".padEnd(14)}  ${"OFFSET".padStart(10)}  ${"LSN".padStart(10)}  ${"KIND".padEnd(13)}  ${"TX/SNAP".padStart(10)}  ${"LENGTH".padStart(8)}  EVENTS`,
      ),
    );
  }
  try {
    for await (const item of dumpRecords(path, {
      ...read,
      ...(fromLsn === undefined ? {} : { fromLsn }),
      ...(toLsn === undefined ? {} : { toLsn }),
      ...(tx === undefined ? {} : { tx }),
      ...(limit === undefined ? {} : { limit }),
      ...(kinds === undefined ? {} : { kinds }),
    })) {
      if (item.type === "damage") {
        await ctx.out.flush();
        read.done();
        damages.push(item.scan);
        const d = item.scan.damage;
        if (d !== null) ctx.warn(`${d.kind} in ${item.scan.name} at offset ${d.offset}: ${d.code}: ${d.message}`);
        continue;
      }
      if (json) {
        ctx.out.line(JSON.stringify(dumpedRecordToJson(item, codec)));
      } else {
        const slot = item.snapshotLsn ?? item.txBeginLsn;
        ctx.out.line(
          `${item.segment.padEnd(14)}  ${String(item.offset).padStart(10)}  ${String(item.lsn).padStart(10)}  ${s.cyan(item.kind.padEnd(13))}  ${(slot === undefined ? "-" : String(slot)).padStart(10)}  ${String(item.length).padStart(8)}  ${item.events === undefined ? "" : item.events.length}`.trimEnd(),
        );
        for (const line of eventTextLines(item.events ?? [], codec)) ctx.out.line(line);
      }
      await ctx.out.drain();
    }
  } finally {
    read.done();
  }
  return verdictFromScans(damages, codec).exitCode;
}
