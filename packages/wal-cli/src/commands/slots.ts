/**
 * `lora-wal slots <dir>`: the log's replication slots (the change-feed consumers' positions, `@lora/wal-replay`'s
 * slots), each with how much of the log it holds back from truncation; and `create` / `drop`, which write inside
 * `<dir>/slots/` only, never beside the segments.
 */

import { join } from "node:path";
import { isWalError, shellPath, WalError } from "@lora/wal-codec";
import {
  canRestartFrom,
  createSlot,
  dropSlot,
  listSlotNames,
  readSlot,
  SLOTS_DIR_NAME,
  type SlotInvalidation,
  type SlotState,
} from "@lora/wal-replay";
import {
  dataEndOf,
  isMissingFileError,
  removeEmptyDirDurably,
  SegmentReader,
  type WalFileSystem,
} from "@lora/wal-segment";
import {
  COMMON_OPTIONS,
  type CommandContext,
  ExitCode,
  lsnOption,
  parseCommand,
  READ_OPTIONS,
  UsageError,
} from "../cli-context.js";
import { formatBytes, formatTable } from "../format/text-table.js";
import { framingOnlyCodec } from "../scan/framing-codec.js";
import { createReadOnlyFileSystem } from "../scan/read-only-fs.js";
import { resolveLogDir, type WalTarget } from "../scan/wal-target.js";

/** One replication slot as `lora-wal slots` reports it. */
export interface SlotReportEntry {
  readonly name: string;
  /** The commit LSN of the last transaction its consumer confirmed; it resumes after it. */
  readonly confirmedLsn: number;
  /** Where its consumer reads again from (at most `confirmedLsn + 1`; lower while a transaction was open then). */
  readonly restartLsn: number;
  /** When the slot was created, in milliseconds since the Unix epoch. */
  readonly createdAtMs: number;
  /** The same, as an ISO 8601 UTC string. */
  readonly createdAt: string;
  /** `invalidated`: the writer deleted segments it needed; its consumer must start again from a snapshot. */
  readonly status: "valid" | "invalidated";
  /**
   * The bytes of log this slot keeps from truncation: those of the segments from the one holding `restartLsn` to the
   * newest, whole, each up to the end of its last record (the zeros a live writer preallocates ahead of its records
   * are not log and do not count, see {@link SlotReport.bytes}). `null` for an invalidated slot, which holds nothing
   * back.
   */
  readonly heldBackBytes: number | null;
  /** How many segments that is; `null` for an invalidated slot. */
  readonly heldBackSegments: number | null;
  /** Why and when it was invalidated, as its marker records it; `null` while valid. */
  readonly invalidated: SlotInvalidation | null;
}

/** A slot whose file fails its checks, as `lora-wal slots` reports it (the slot's position cannot be read). */
export interface SlotDamageEntry {
  readonly name: string;
  /** The slot file. */
  readonly path: string;
  readonly code: "WAL_CORRUPT";
  /** What is wrong with the file. */
  readonly message: string;
}

/** What {@link describeSlots} found. */
export interface SlotReport {
  readonly path: string;
  /** The first LSN the log holds (its oldest segment's base LSN); `null` without a readable segment. */
  readonly oldestRetainedLsn: number | null;
  readonly segments: number;
  /**
   * The bytes of log of all segments: up to the end of the last record (a live writer's active segment runs zeros
   * ahead of its records, its preallocation, which are not counted), so closing the writer does not change it.
   */
  readonly bytes: number;
  /** The slots whose files read, sorted by name. */
  readonly slots: readonly SlotReportEntry[];
  /** The slots whose files fail their checks, sorted by name; empty when there is no damage. */
  readonly damaged: readonly SlotDamageEntry[];
}

/** A segment with the base LSN its header names (`null`: unreadable header) and its bytes of log. */
interface BasedSegment {
  /** {@link logBytes}. */
  readonly bytes: number;
  readonly baseLsn: number | null;
}

/**
 * Read every segment header's base LSN, and each segment's bytes of log ({@link logBytes}). A segment deleted
 * meanwhile (a live writer truncating) is left out; one whose header does not read (a newest segment being created)
 * counts with its file size but holds no LSN.
 */
async function segmentBases(fs: WalFileSystem, target: WalTarget): Promise<BasedSegment[]> {
  const out: BasedSegment[] = [];
  for (const segment of target.segments) {
    let based: BasedSegment;
    try {
      const reader = await SegmentReader.open(fs, segment.path);
      try {
        based = { bytes: await logBytes(fs, reader), baseLsn: reader.header.baseLsn };
      } finally {
        await reader.close();
      }
    } catch (error) {
      if (isMissingFileError(error)) continue;
      if (!isWalError(error, "WAL_BAD_HEADER")) throw error;
      based = { bytes: segment.size, baseLsn: null };
    }
    out.push(based);
  }
  return out;
}

/**
 * A segment's bytes of log: a sealed segment's file size (sealing cut off any zeros, so its file ends at its last
 * record); for an unsealed one (a live writer's active segment, which runs `preallocateBytes` of zeros ahead of its
 * records) the end of its last whole record, read through once without decoding payloads. The zeros are not log:
 * closing the writer cuts them off, and the writer's own `maxSlotRetainedBytes` never counts them. When the read
 * stops at damage (a flipped bit part-way, or a record a live writer is still writing), the records past it are
 * still in the file: it counts to the file's last non-zero byte ({@link dataEndOf}), leaving out only the zeros.
 */
async function logBytes(fs: WalFileSystem, reader: SegmentReader): Promise<number> {
  if (reader.header.sealed) return reader.fileSize;
  for (;;) {
    const step = await reader.next(framingOnlyCodec);
    if (step.kind === "end") return reader.position;
    if (step.kind === "damaged") break;
  }
  const file = await fs.open(reader.path, "read");
  try {
    return Math.max(reader.position, await dataEndOf(file, await file.size()));
  } finally {
    await file.close();
  }
}

/**
 * What a slot restarting at `restartLsn` holds back: the segments from the newest one whose base LSN is at most
 * `restartLsn` (the one its consumer reads next) to the end, by their bytes of log ({@link logBytes}). (Truncation's
 * own limit, `maxSlotRetainedBytes`, counts only the segments a truncation would otherwise delete, never the newest.)
 */
function heldBack(segments: readonly BasedSegment[], restartLsn: number): { bytes: number; segments: number } {
  let from = 0;
  segments.forEach((segment, i) => {
    if (segment.baseLsn !== null && segment.baseLsn <= restartLsn) from = i;
  });
  const kept = segments.slice(from);
  return { bytes: kept.reduce((n, s) => n + s.bytes, 0), segments: kept.length };
}

function entryOf(slot: SlotState, segments: readonly BasedSegment[]): SlotReportEntry {
  const held = slot.invalidated === null ? heldBack(segments, slot.restartLsn) : null;
  return {
    name: slot.name,
    confirmedLsn: slot.confirmedLsn,
    restartLsn: slot.restartLsn,
    createdAtMs: slot.createdAtMs,
    createdAt: new Date(slot.createdAtMs).toISOString(),
    status: slot.invalidated === null ? "valid" : "invalidated",
    heldBackBytes: held?.bytes ?? null,
    heldBackSegments: held?.segments ?? null,
    invalidated: slot.invalidated,
  };
}

/**
 * Every slot of the log in `dir`, and the slots whose files fail their checks: each slot `listSlots` would read
 * (`listSlotNames`), read on its own, so one damaged file does not hide the others.
 */
async function readSlots(fs: WalFileSystem, dir: string): Promise<{ slots: SlotState[]; damaged: SlotDamageEntry[] }> {
  const slots: SlotState[] = [];
  const damaged: SlotDamageEntry[] = [];
  for (const name of await listSlotNames(dir, { fs })) {
    try {
      slots.push(await readSlot(dir, name, { fs }));
    } catch (error) {
      if (isWalError(error, "WAL_SLOT_NOT_FOUND")) continue; // dropped since the listing
      if (!isWalError(error, "WAL_CORRUPT")) throw error;
      // readSlot's WAL_CORRUPT names the file it read (details.path).
      damaged.push({ name, path: String(error.details?.path), code: "WAL_CORRUPT", message: error.message });
    }
  }
  return { slots, damaged };
}

/**
 * The replication slots of the log in `dir`, read-only, each with what it holds back from truncation. A slot file
 * that fails its checks does not stop the listing: it is reported in `damaged`, the other slots in `slots`.
 * @throws {@link @lora/wal-codec!WalError} `WAL_IO` (the directory is missing or unreadable, or is a file).
 * @example
 * ```ts
 * const { slots } = await describeSlots("./wal");
 * for (const s of slots) console.log(s.name, s.confirmedLsn, s.status, s.heldBackBytes);
 * ```
 */
export async function describeSlots(dir: string): Promise<SlotReport> {
  const fs = createReadOnlyFileSystem();
  const target = await resolveLogDir(fs, dir, "slots");
  const segments = await segmentBases(fs, target);
  const { slots, damaged } = await readSlots(fs, dir);
  return {
    path: dir,
    oldestRetainedLsn: segments[0]?.baseLsn ?? null,
    segments: segments.length,
    bytes: segments.reduce((n, s) => n + s.bytes, 0),
    slots: slots.map((slot) => entryOf(slot, segments)),
    damaged,
  };
}

export const SLOTS_HELP = `Usage: lora-wal slots <dir> [options]
       lora-wal slots <dir> create <name> [--at <lsn> [--restart-lsn <lsn>]]
       lora-wal slots <dir> drop <name>

List the replication slots of a WAL directory: the positions of the consumers of
its change feed (lora-wal follow --slot). The writer's truncation keeps every
record from a valid slot's restart LSN on; a slot that holds back more than the
writer allows (maxSlotRetainedBytes) is invalidated instead. For each slot:
confirmed LSN, restart LSN (confirmed LSN + 1, or lower when a transaction begun
earlier was open at that commit), creation time, status (valid, or invalidated
with the reason and where the log then started), and the log bytes it holds back
(the segments from the one holding the restart LSN to the newest, each up to
its last record: a live writer's preallocated zeros are not counted).

  create <name>   create slot <name> at --at <lsn> (default 0: the start of the
                  log); its consumer gets the transactions that begin after it.
                  With --restart-lsn, the slot holds a consumer's exact resume
                  token instead (the restartLsn follow --json printed with that
                  commit), which also keeps a transaction begun before --at and
                  committed after it. Refused when the log no longer holds the
                  records from the slot's restart point on (truncated), except
                  when only the restart point itself is gone: a follow then
                  fails (WAL_TRUNCATED) only at a record of a transaction begun
                  at that LSN. Refused (exit 3, nothing written) when --at lies
                  past the end of the log (its newest record's LSN): the
                  consumer would skip what the writer commits up to it.
  drop <name>     remove slot <name>: truncation stops keeping the log for it

Listing takes no lock and writes nothing. create and drop write only inside
<dir>/slots/ (files and fsyncs), never a segment, the lock or another file.
Slot names are 1 to 64 letters, digits, "_" or "-".

Options:
      --at <lsn>  create: the new slot's confirmed LSN (the LSN of the snapshot
                  its consumer starts from, at most the log's last LSN);
                  default 0
      --restart-lsn <lsn>
                  create, with --at: the restart point of the token (1 to
                  --at + 1); default --at + 1
      --json      print the listing as one JSON document, or the created slot
  -h, --help      show this help

Exit status: 0 done, 2 a slot file is corrupt (the listing shows the other
slots and flags it DAMAGED), 3 usage error, 4 path missing, not a directory or
unreadable, 6 create: the log no longer holds the records from the slot's
restart point on (WAL_TRUNCATED), 7 create: the slot exists (WAL_SLOT_EXISTS),
drop: no such slot (WAL_SLOT_NOT_FOUND).
`;

/** `lora-wal slots`. */
export async function runSlots(args: string[], ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseCommand("slots", args, {
    ...COMMON_OPTIONS,
    json: READ_OPTIONS.json,
    at: { type: "string" },
    "restart-lsn": { type: "string" },
  });
  if (values.help === true) {
    ctx.out.line(SLOTS_HELP.trimEnd());
    return ExitCode.OK;
  }
  const [dir, action, name, extra] = positionals;
  if (dir === undefined) throw new UsageError("missing <dir> (a WAL directory)", "slots");
  if (extra !== undefined) throw new UsageError(`unexpected argument: ${extra}`, "slots");
  const at = lsnOption("slots", "at", values.at);
  const restartLsn = lsnOption("slots", "restart-lsn", values["restart-lsn"]);
  const json = values.json === true;
  if (restartLsn !== undefined && at === undefined) throw new UsageError("--restart-lsn goes with --at", "slots");
  if (action === undefined) {
    if (at !== undefined) throw new UsageError("--at goes with create", "slots");
    const report = await describeSlots(dir);
    if (json) ctx.out.line(JSON.stringify(report, null, 2));
    else printSlots(report, ctx);
    return report.damaged.length === 0 ? ExitCode.OK : ExitCode.DAMAGED;
  }
  if (action !== "create" && action !== "drop") {
    throw new UsageError(`unknown slots action ${JSON.stringify(action)} (expected create or drop)`, "slots");
  }
  if (name === undefined) throw new UsageError(`missing <name> of the slot to ${action}`, "slots");
  if (action === "drop" && at !== undefined) throw new UsageError("--at goes with create", "slots");
  // Writes reach slots/ and nothing else (plus fsyncs, which change no byte): by construction.
  const slotsDir = join(dir, SLOTS_DIR_NAME);
  const fs = createReadOnlyFileSystem(undefined, undefined, { allowSync: true, writableDir: slotsDir });
  await resolveLogDir(fs, dir, "slots");
  // Whether create makes slots/: a create refused after it (behind truncation) removes it again.
  const newSlotsDir = (await fs.stat(slotsDir)) === null;
  try {
    if (action === "drop") {
      await dropSlot(dir, name, { fs });
      if (json) ctx.out.line(JSON.stringify({ dropped: name }));
      else ctx.out.line(`dropped slot ${name}`);
      return ExitCode.OK;
    }
    const slot = await createSlot(dir, name, {
      fs,
      confirmedLsn: at ?? 0,
      ...(restartLsn === undefined ? {} : { restartLsn }),
    });
    // Read after creating, so a truncation that ran meanwhile is seen (from now on the slot protects the log).
    const segments = await segmentBases(fs, await resolveLogDir(fs, dir, "slots"));
    await refuseBehind(fs, dir, slot, segments, newSlotsDir);
    const entry = entryOf(slot, segments);
    if (json) ctx.out.line(JSON.stringify(entry, null, 2));
    else {
      const exact = slot.restartLsn === slot.confirmedLsn + 1 ? "" : ` (restart LSN ${slot.restartLsn})`;
      ctx.out.line(`created slot ${name} at LSN ${slot.confirmedLsn}${exact}; it holds back ${heldText(entry)}`);
    }
    return ExitCode.OK;
  } catch (error) {
    if (isWalError(error, "WAL_INVALID_ARGUMENT")) throw new UsageError(error.message, "slots");
    throw error;
  }
}

/**
 * A new slot whose consumer would need records the log no longer holds is useless: drop it again (and `slots/`, when
 * this create made it and it is still empty, so the refusal leaves the directory as it was) and say so.
 */
async function refuseBehind(
  fs: WalFileSystem,
  dir: string,
  slot: SlotState,
  segments: readonly BasedSegment[],
  newSlotsDir: boolean,
): Promise<void> {
  const oldest = segments[0]?.baseLsn;
  // The restart point itself missing is the change feed's one-LSN gap: a follower starts there, and fails
  // WAL_TRUNCATED only at a record of a transaction begun at that LSN.
  if (oldest === undefined || oldest === null || canRestartFrom(slot.restartLsn, oldest)) return;
  await dropSlot(dir, slot.name, { fs });
  // Best effort, so the refusal stays the error reported; one a slot created meanwhile went into stays.
  if (newSlotsDir) await removeEmptyDirDurably(fs, join(dir, SLOTS_DIR_NAME));
  // With an exact token the records from its restart point are gone: a transaction begun there and committed
  // after --at cannot be read whole, and a higher restart LSN would skip it. Only a newer snapshot helps.
  const needs =
    slot.restartLsn === slot.confirmedLsn + 1
      ? `the records after LSN ${slot.confirmedLsn}`
      : `the records from LSN ${slot.restartLsn} (the restart point of the token at LSN ${slot.confirmedLsn}, where a transaction it must still deliver began)`;
  throw new WalError(
    "WAL_TRUNCATED",
    `the log in ${dir} no longer holds ${needs}: it starts at LSN ${oldest}; create the slot at LSN ${oldest - 1} or above (the LSN of a snapshot taken there or later); nothing was created`,
    { details: { path: dir, lsn: slot.restartLsn - 1, oldestRetainedLsn: oldest, slot: slot.name } },
  );
}

function heldText(entry: SlotReportEntry): string {
  if (entry.heldBackBytes === null) return "-";
  const segments = `${entry.heldBackSegments} segment${entry.heldBackSegments === 1 ? "" : "s"}`;
  return `${formatBytes(entry.heldBackBytes)} (${entry.heldBackBytes} bytes, ${segments})`;
}

function printSlots(report: SlotReport, ctx: CommandContext): void {
  const s = ctx.style;
  ctx.out.line(`${s.bold("directory")}  ${report.path}`);
  const start = report.oldestRetainedLsn === null ? "" : `, starts at LSN ${report.oldestRetainedLsn}`;
  ctx.out.line(
    `${s.bold("log")}        ${report.segments} segment${report.segments === 1 ? "" : "s"}, ${formatBytes(report.bytes)} (${report.bytes} bytes)${start}`,
  );
  const count = report.slots.length + report.damaged.length;
  if (count === 0) {
    ctx.out.line(`${s.bold("slots")}      none (create one: lora-wal slots ${shellPath(report.path)} create <name>)`);
    return;
  }
  const damaged = report.damaged.length === 0 ? "" : ` (${report.damaged.length} damaged)`;
  ctx.out.line(`${s.bold("slots")}      ${count}${damaged}`);
  ctx.out.line("");
  // One table sorted by name (the first cell), damaged slots among the others.
  const rows: string[][] = [
    ...report.slots.map((slot) => [
      slot.name,
      String(slot.confirmedLsn),
      String(slot.restartLsn),
      slot.createdAt,
      slot.status === "valid" ? "valid" : "INVALIDATED",
      heldText(slot),
    ]),
    ...report.damaged.map((slot) => [slot.name, "-", "-", "-", "DAMAGED", "-"]),
  ].sort(([a = ""], [b = ""]) => (a < b ? -1 : a > b ? 1 : 0));
  const table = formatTable(
    [
      { header: "NAME" },
      { header: "CONFIRMED LSN", align: "right" },
      { header: "RESTART LSN", align: "right" },
      { header: "CREATED" },
      { header: "STATUS", paint: (padded, raw) => (raw === "valid" ? s.green(padded) : s.red(padded)) },
      { header: "HOLDS BACK" },
    ],
    rows,
  );
  for (const line of table) ctx.out.line(line);
  for (const slot of report.slots) {
    const inv = slot.invalidated;
    if (inv === null) continue;
    const when = [
      inv.oldestRetainedLsn === null ? undefined : `the log then started at LSN ${inv.oldestRetainedLsn}`,
      inv.retainedBytes === null ? undefined : `it held back ${formatBytes(inv.retainedBytes)}`,
    ].filter((d) => d !== undefined);
    ctx.out.line(`  ${slot.name}: invalidated${when.length === 0 ? "" : ` (${when.join(", ")})`}: ${inv.reason}`);
  }
  // Truncation refuses (WAL_CORRUPT) while a slot file is damaged; the position it held cannot be read back.
  for (const slot of report.damaged) {
    ctx.out.line(
      `  ${slot.name}: damaged: ${slot.message} (${slot.code}); drop it (lora-wal slots ${shellPath(report.path)} drop ${slot.name}) and create it again at its consumer's position (--at)`,
    );
  }
}
