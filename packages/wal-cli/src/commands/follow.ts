/**
 * `lora-wal follow <dir>`: the `tail -f` of a log. Prints every committed transaction as the writer commits it
 * (through `@lora/wal-replay`'s `followDir`: lock-free, beside a live writer, by default only once durable), and
 * with `--slot` confirms each printed one in a replication slot so a restarted `follow --slot` goes on after it.
 * Runs until SIGINT or SIGTERM, or until `--count` / `--until-lsn` is reached.
 */

import { join } from "node:path";
import { isWalError, shellPath, withAdvice } from "@lora/wal-codec";
import { type CommittedTransaction, followDir, readSlot, SLOTS_DIR_NAME } from "@lora/wal-replay";
import type { WalFileSystem } from "@lora/wal-segment";
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
import type { JsonOut } from "../format/exact-json.js";
import { jsonFailureLine } from "../json-error.js";
import { type CodecUse, codecFor } from "../read-options.js";
import { holdsArchive } from "../scan/holds-archive.js";
import { createReadOnlyFileSystem } from "../scan/read-only-fs.js";
import { resolveLogDir } from "../scan/wal-target.js";
import { codecAdvice } from "../verdict.js";
import { eventsToJson, eventTextLines, MODULE_RENDERING } from "./dump.js";
import { archiveDirNote } from "./run-report.js";

/**
 * How often `follow` looks for new commits when no change notification comes. The CLI's guarded file system wraps
 * real files, so `followDir` also watches the directory (inotify) and wakes as soon as the writer commits.
 */
export const FOLLOW_POLL_MS = 100;

/**
 * The JSON object `follow --json` prints for a transaction: `{beginLsn, commitLsn, restartLsn, events}`, events as
 * `dump --json`; `commitLsn` and `restartLsn` are its resume token (`--after`, `--restart-lsn`).
 */
export function followedTransactionToJson(tx: CommittedTransaction<unknown>, codecName: string): JsonOut {
  return {
    beginLsn: tx.beginLsn,
    commitLsn: tx.commitLsn,
    restartLsn: tx.restartLsn,
    events: eventsToJson(tx.events, codecName),
  };
}

export const FOLLOW_HELP = `Usage: lora-wal follow <dir> [options]

Print each committed transaction of a WAL directory as it is committed, like
tail -f, beside a live writer (LoraDB or @lora/wal). By default a transaction is
printed once it is durable, so a crash of the writer cannot take it back.
Runs until SIGINT or SIGTERM (exit 0), or until --count or --until-lsn is met.
In a directory with no segment files it waits for a writer to create the log,
after a note on stderr saying so.

Takes no lock and changes no byte of the log. When no live writer publishes its
durable LSN (LoraDB, a crashed writer) it fsyncs the segments it has read before
printing from them. With --slot it writes the slot's position, in <dir>/slots/
and nowhere else, after each transaction it printed.

Options:
      --after <lsn>      print the transactions committed after this LSN (the
                         commit LSN of the last one already processed) and, without
                         --restart-lsn, begun after it; default 0
      --restart-lsn <lsn>
                         with --after: the restartLsn of that same transaction
                         (--json prints both), so a transaction that began before
                         it and committed after it is printed whole
      --slot <name>      start from replication slot <name> (see lora-wal slots)
                         and confirm each transaction once printed, so a restarted
                         follow --slot goes on after the last printed one;
                         not with --after or --restart-lsn
      --written          print a transaction once it is whole in the file, before
                         it is durable (sooner; a machine crash may take it back)
  -n, --count <n>        stop after printing n transactions
      --until-lsn <lsn>  stop after printing a transaction with commit LSN >= lsn
  -c, --codec <name>     payload codec: lora (default), json, bytes
      --codec-module <file>
                         your own PayloadCodec: an ES module exporting it as
                         'codec' (or as its default export); its events print
                         in the exact JSON form
      --json             one JSON object per line per transaction:
                         {beginLsn, commitLsn, restartLsn, events} (events as
                         dump --json)
  -h, --help             show this help

Text: a header, then per transaction one line (commit LSN, begin LSN, number of
events) followed by its events, one indented line each, as dump prints them.
On an error it says what to run next (exit status 6 and 7).

Exit status: 0 stopped by --count, --until-lsn, SIGINT or SIGTERM, 2 corruption,
malformed structure or a bad header met (a record that does not decode after
earlier ones did shows as corruption, with a hint about --codec), 3 usage
error (also a --codec-module that does not load or exports no codec), 4 path
missing or unreadable, 5 codec mismatch: the first mutation record is whole
but does not decode with the codec (WAL_CODEC_MISMATCH), 6 behind
truncation: the log no longer holds the records after the position
(WAL_TRUNCATED) or the slot was invalidated (WAL_SLOT_INVALIDATED), 7 no such
slot (WAL_SLOT_NOT_FOUND).
`;

/** `lora-wal follow`. */
export async function runFollow(args: string[], ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseCommand("follow", args, {
    ...COMMON_OPTIONS,
    codec: READ_OPTIONS.codec,
    "codec-module": READ_OPTIONS["codec-module"],
    json: READ_OPTIONS.json,
    after: { type: "string" },
    "restart-lsn": { type: "string" },
    slot: { type: "string" },
    written: { type: "boolean" },
    count: { type: "string", short: "n" },
    "until-lsn": { type: "string" },
  });
  if (values.help === true) {
    ctx.out.line(FOLLOW_HELP.trimEnd());
    return ExitCode.OK;
  }
  const dir = onePath("follow", positionals);
  const chosen = await codecOptions("follow", values);
  if (chosen.codec === "framing") {
    throw new UsageError(
      "--codec framing reads no events: follow prints events (use verify, inspect, stat or dump)",
      "follow",
    );
  }
  // What the events are read with, and how they print: a --codec-module codec's in the exact JSON form.
  const payloadCodec = chosen.payloadCodec ?? codecFor(chosen.codec ?? "lora");
  const use: Pick<CodecUse, "name" | "source"> =
    chosen.payloadCodec === undefined
      ? { name: chosen.codec ?? "lora", source: chosen.codec === undefined ? "default" : "option" }
      : { name: chosen.payloadCodec.name, source: "module" };
  const rendering = use.source === "module" ? MODULE_RENDERING : use.name;
  const after = lsnOption("follow", "after", values.after);
  const restartLsn = lsnOption("follow", "restart-lsn", values["restart-lsn"]);
  const count = countOption("follow", "count", values.count);
  const untilLsn = lsnOption("follow", "until-lsn", values["until-lsn"]);
  const slot = values.slot;
  if (slot !== undefined && (after !== undefined || restartLsn !== undefined)) {
    throw new UsageError("--after and --slot exclude each other: the slot supplies the position", "follow");
  }
  if (restartLsn !== undefined && (after === undefined || restartLsn < 1 || restartLsn > after + 1)) {
    throw new UsageError("--restart-lsn needs --after and must lie between 1 and --after + 1", "follow");
  }
  const durability = values.written === true ? "written" : "durable";
  const fs = createReadOnlyFileSystem(undefined, undefined, {
    allowSync: durability === "durable",
    ...(slot === undefined ? {} : { writableDir: join(dir, SLOTS_DIR_NAME) }),
  });
  const target = await resolveLogDir(fs, dir, "follow");
  if (slot !== undefined) await checkSlot(fs, dir, slot, use);
  const json = values.json === true;
  const s = ctx.style;
  const stop = new AbortController();
  const unsubscribe = ctx.onInterrupt(() => stop.abort());
  let printed = 0;
  try {
    // A follow of a directory with no segment files waits for a writer to create the log, silently: more often a
    // path one level off, or an archive, than a log not written yet. Said once, on stderr (stdout stays the feed),
    // once SIGINT stops the wait.
    if (target.segments.length === 0) {
      const archive = await holdsArchive(fs, dir);
      ctx.warn(`note: ${archive ? `${archiveDirNote(dir)}; follow waits for segment files` : noSegmentsYetNote(dir)}`);
    }
    const follower = followDir<unknown>(dir, {
      codec: payloadCodec,
      fs,
      signal: stop.signal,
      pollIntervalMs: FOLLOW_POLL_MS,
      watch: true,
      durability,
      ...(slot === undefined ? { after: after ?? 0 } : { slot }),
      ...(restartLsn === undefined ? {} : { restartLsn }),
    });
    for await (const tx of follower) {
      if (json) {
        ctx.out.line(JSON.stringify(followedTransactionToJson(tx, rendering)));
      } else {
        // With the first transaction, so a follow that fails at once prints nothing on stdout.
        if (printed === 0) ctx.out.line(s.dim(`${"COMMIT LSN".padStart(10)}  ${"BEGIN LSN".padStart(10)}  EVENTS`));
        ctx.out.line(
          `${s.cyan(String(tx.commitLsn).padStart(10))}  ${String(tx.beginLsn).padStart(10)}  ${tx.events.length}`,
        );
        for (const line of eventTextLines(tx.events, rendering)) ctx.out.line(line);
      }
      // Printed means handed to stdout: only then may the slot move past it.
      await ctx.out.flush();
      if (slot !== undefined) {
        const moved = await confirmUnlessMoved(follower, tx, slot);
        if (moved !== undefined) {
          ctx.warn(moved);
          // The NDJSON stream ends with the failure's document, as a thrown failure's does (see main).
          if (json) {
            ctx.out.line(jsonFailureLine("WAL_SLOT_MOVED", moved, ExitCode.SLOT));
            await ctx.out.flush();
          }
          return ExitCode.SLOT;
        }
      }
      printed++;
      if ((count !== undefined && printed >= count) || (untilLsn !== undefined && tx.commitLsn >= untilLsn)) break;
    }
  } catch (error) {
    throw withHint(error, dir, slot, use);
  } finally {
    unsubscribe();
  }
  return ExitCode.OK;
}

/** The note for a directory that holds no segment file (yet). */
function noSegmentsYetNote(dir: string): string {
  return `no segment files (*.wal) in ${dir} yet: follow waits for a writer to create them; if a log should be here, check the path (is it in a subdirectory?)`;
}

/**
 * Confirm `tx` in the slot; when the slot is already past it, the message to stop with (exit 7, a slot problem):
 * another process confirmed the slot further, so two followers share it, and each sees only part of the feed.
 * Other failures are thrown.
 */
async function confirmUnlessMoved(
  follower: { confirm(tx: CommittedTransaction<unknown>): Promise<void> },
  tx: CommittedTransaction<unknown>,
  slot: string,
): Promise<string | undefined> {
  try {
    await follower.confirm(tx);
    return undefined;
  } catch (error) {
    // advanceSlot refuses to move a slot back with WAL_INVALID_ARGUMENT naming the slot: here that is no caller's
    // mistake on the command line (exit 3) but the slot's state.
    if (!isWalError(error, "WAL_INVALID_ARGUMENT") || error.details.slot !== slot) throw error;
    return `${error.message} (${error.code}): another process confirmed slot "${slot}" past what this follow printed; two followers sharing one slot each miss what the other confirms. next: give each follower its own slot (lora-wal slots <dir> create <name>)`;
  }
}

/** Refuse a bad slot name as a usage error, and a missing slot before anything is followed. */
async function checkSlot(fs: WalFileSystem, dir: string, slot: string, use: CodecHintUse): Promise<void> {
  try {
    await readSlot(dir, slot, { fs });
  } catch (error) {
    if (isWalError(error, "WAL_INVALID_ARGUMENT")) throw new UsageError(`--slot: ${error.message}`, "follow");
    throw withHint(error, dir, slot, use);
  }
}

/** The codec a follow reads with, as its hints name it. */
export type CodecHintUse = Pick<CodecUse, "name" | "source">;

/**
 * The change feed's errors with what to run next (added by `withAdvice`: code, details and cause stay the error's);
 * other errors as they are.
 * @internal Exported for its tests.
 */
export function withHint(error: unknown, dir: string, slot: string | undefined, use: CodecHintUse): unknown {
  if (!isWalError(error)) return error;
  // A log whose first mutation record does not decode is a codec mismatch; one whose later record does not is
  // reported as corruption, whose likely cause is the codec too. Either way: the codecs to try, and not
  // `--codec framing`, which follow refuses.
  if (error.code === "WAL_CODEC_MISMATCH" || (error.code === "WAL_CORRUPT" && isWalError(error.cause, "WAL_DECODE"))) {
    return withAdvice(error, codecAdvice(use.name, use.source, { framing: false }), { as: "aside" });
  }
  const oldest = error.details.oldestRetainedLsn;
  const snapshotLsn =
    oldest === undefined
      ? "<LSN of a new snapshot>"
      : `<LSN of a snapshot taken at LSN ${Math.max(0, oldest - 1)} or later>`;
  const name = slot ?? "<name>";
  const shown = shellPath(dir);
  let hint: string | undefined;
  switch (error.code) {
    case "WAL_TRUNCATED":
      hint =
        slot === undefined
          ? `next: follow with --after ${snapshotLsn}`
          : `next: lora-wal slots ${shown} drop ${name}; lora-wal slots ${shown} create ${name} --at ${snapshotLsn}`;
      break;
    case "WAL_SLOT_INVALIDATED":
      hint = `next: lora-wal slots ${shown} drop ${name}; lora-wal slots ${shown} create ${name} --at ${snapshotLsn}`;
      break;
    case "WAL_SLOT_NOT_FOUND":
      hint = `next: lora-wal slots ${shown} create ${name}`;
      break;
  }
  if (hint === undefined) return error;
  return withAdvice(error, hint);
}
