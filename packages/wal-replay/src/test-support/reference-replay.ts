/**
 * TEST REFERENCE: replay as it was before the fast path (1319cab): an async generator that reads every record
 * through `SegmentReader.next` (the classifying slow path), a fresh read buffer per segment, and the map-only
 * assembler. Kept as close to verbatim as possible so differential tests can compare the current replay against it.
 *
 * Streaming replay: a forward sweep over the segments in id order that hands committed transactions over in commit
 * order while holding only the transactions still open. Damage ends the sweep and is classified by the shared
 * damage rules (`damage-rules.ts`), called the way the current replay calls them.
 *
 * The recovery mode says what is thrown and what is only reported (see {@link RecoveryMode}).
 */

import { basename } from "node:path";
import { WalError } from "@lora/wal-codec";
import {
  createNodeFileSystem,
  listSegments,
  parseSegmentId,
  SEGMENT_HEADER_BYTES,
  SegmentReader,
  type WalFileSystem,
} from "@lora/wal-segment";
import { classifyHeaderFailure, classifyRecordDamage } from "../damage-rules.js";
import type { Replay } from "../replay.js";
import {
  type CorruptionInfo,
  RECOVERY_MODES,
  type RecoveryMode,
  type ReplayedTransaction,
  type ReplayOptions,
  type ReplayOutcome,
  type SegmentSummary,
  type TornTailInfo,
} from "../replay-types.js";
import { ReferenceAssembler as TransactionAssembler } from "./reference-assembler.js";

const ABORT_CHECK_EVERY = 4096;

/**
 * Replay every segment of `dir` (see the module comment for the rules).
 * @throws (from iteration) {@link WalError} `WAL_IO` (missing directory, unreadable file; an I/O error is never
 *   taken for the end of the log), `WAL_BAD_HEADER`, `WAL_MALFORMED`, `WAL_CORRUPT`, and `WAL_TORN_TAIL` in
 *   `absolute` mode.
 */
export function referenceReplayDir<E>(dir: string, options: ReplayOptions<E>): Replay<E> {
  const fs = options.fs ?? createNodeFileSystem();
  return new ReplayRun(async () => (await listSegments(fs, dir)).map((e) => e.path), fs, options);
}

/** Replay explicit segment files, in the order given (the first is treated as the oldest). */
export function referenceReplaySegments<E>(paths: readonly string[], options: ReplayOptions<E>): Replay<E> {
  const fs = options.fs ?? createNodeFileSystem();
  return new ReplayRun(() => Promise.resolve([...paths]), fs, options);
}

function idOf(path: string): number | undefined {
  try {
    return parseSegmentId(basename(path));
  } catch {
    return undefined;
  }
}

class ReplayRun<E> implements Replay<E> {
  readonly #list: () => Promise<string[]>;
  readonly #fs: WalFileSystem;
  readonly #options: ReplayOptions<E>;
  readonly #mode: RecoveryMode;
  #started = false;
  #settle!: { resolve(o: ReplayOutcome): void; reject(e: unknown): void };
  readonly #outcome: Promise<ReplayOutcome>;

  constructor(list: () => Promise<string[]>, fs: WalFileSystem, options: ReplayOptions<E>) {
    this.#list = list;
    this.#fs = fs;
    this.#options = options;
    this.#mode = options.recovery ?? "tolerate-torn-tail";
    if (!RECOVERY_MODES.includes(this.#mode)) {
      throw new WalError("WAL_INVALID_OPTION", `unknown recovery mode ${String(this.#mode)}`);
    }
    const fence = options.checkpointLsn ?? 0;
    if (!Number.isSafeInteger(fence) || fence < 0) {
      throw new WalError("WAL_INVALID_OPTION", `checkpointLsn must be a non-negative safe integer, got ${fence}`);
    }
    this.#outcome = new Promise((resolve, reject) => {
      this.#settle = { resolve, reject };
    });
    // The outcome is optional to read; a rejection nobody asked for must not become an unhandled rejection.
    this.#outcome.catch(() => undefined);
  }

  [Symbol.asyncIterator](): AsyncIterator<ReplayedTransaction<E>> {
    if (this.#started) throw new TypeError("a replay can be iterated only once");
    this.#started = true;
    return this.#walk();
  }

  async outcome(): Promise<ReplayOutcome> {
    if (!this.#started) {
      for await (const _ of this) {
        // Draining: the caller only wants the report.
      }
    }
    return this.#outcome;
  }

  async *#walk(): AsyncGenerator<ReplayedTransaction<E>> {
    const { codec, signal } = this.#options;
    const assembler = new TransactionAssembler<E>(this.#options.checkpointLsn ?? 0);
    const segments: SegmentSummary[] = [];
    let lastGoodOffset = SEGMENT_HEADER_BYTES;
    let tornTail: TornTailInfo | null = null;
    let corruption: CorruptionInfo | null = null;
    let headerless: ReplayOutcome["headerlessLastSegment"] = null;
    let complete = false;
    try {
      signal?.throwIfAborted();
      const paths = await this.#list();
      walk: for (let i = 0; i < paths.length; i++) {
        const path = paths[i] as string;
        const isLast = i === paths.length - 1;
        const id = idOf(path);
        const previous = segments.at(-1);
        let reader: SegmentReader;
        try {
          reader = await SegmentReader.open(this.#fs, path, this.#chunkOptions());
        } catch (error) {
          const fileSize = isLast ? await this.#headerlessSize(path, error) : undefined;
          if (fileSize === undefined) throw error;
          // A rotation was creating it, so its predecessor existed: an id missing before it is a lost segment.
          const lost =
            previous === undefined ? undefined : this.#missingBetween(previous, path, id, Number.POSITIVE_INFINITY);
          if (lost === undefined) {
            headerless = { path, id, fileSize };
            break;
          }
          corruption = lost;
          if (this.#mode !== "point-in-time") throw lost.error;
          break;
        }
        const between =
          previous === undefined
            ? undefined
            : (this.#missingBetween(previous, path, id, reader.header.baseLsn) ??
              (previous.sealed ? undefined : this.#staleBefore(previous, path)));
        if (between !== undefined) {
          await reader.close();
          corruption = between;
          if (this.#mode !== "point-in-time") throw between.error;
          break;
        }
        try {
          signal?.throwIfAborted();
          const baseLsn = reader.header.baseLsn;
          assembler.enterSegment(baseLsn, path);
          let records = 0;
          let firstLsn: number | undefined;
          let lastLsn: number | undefined;
          lastGoodOffset = reader.position;
          const summarize = (): SegmentSummary => ({
            id,
            path,
            baseLsn,
            sealed: reader.header.sealed,
            fileSize: reader.fileSize,
            records,
            firstLsn,
            lastLsn,
            endOffset: lastGoodOffset,
          });
          for (;;) {
            const step = await reader.next(codec);
            if (step.kind === "end") break;
            if (step.kind === "damaged") {
              segments.push(summarize());
              // Classified by the shared damage rules, as the current replay does (the rules are not what this
              // reference checks; the reading around them is).
              const damage = await classifyRecordDamage({
                fs: this.#fs,
                reader,
                step,
                newest: isLast,
                segmentId: id,
                lastLsn: assembler.lastLsn,
                codec,
                walked: segments,
              });
              if (damage.kind === "codec-mismatch") throw damage.error;
              if (damage.kind === "torn-tail") {
                tornTail = {
                  segmentPath: path,
                  segmentId: id,
                  offset: damage.offset,
                  fileSize: damage.fileSize,
                  droppedBytes: damage.droppedBytes,
                  cause: damage.cause,
                };
                if (this.#mode === "absolute") throw damage.error;
              } else {
                corruption = {
                  segmentPath: path,
                  segmentId: id,
                  offset: damage.offset,
                  error: damage.error,
                  validRecordAfter: damage.validRecordAfter,
                };
                if (this.#mode !== "point-in-time") throw damage.error;
              }
              break walk;
            }
            const committed = assembler.apply(step.record, baseLsn, path);
            records++;
            firstLsn ??= step.record.lsn;
            lastLsn = step.record.lsn;
            lastGoodOffset = reader.position;
            // The abort rule replay has now: checked before every hand-over, and every few thousand records.
            if (signal !== undefined && (committed !== undefined || assembler.records % ABORT_CHECK_EVERY === 0)) {
              signal.throwIfAborted();
            }
            if (committed !== undefined) yield committed;
          }
          segments.push(summarize());
        } finally {
          await reader.close();
        }
      }
      complete = true;
    } catch (error) {
      this.#settle.reject(error);
      throw error;
    } finally {
      this.#settle.resolve({
        maxLsn: assembler.maxLsn,
        lastGoodOffset,
        tornTail,
        corruption,
        checkpointLsnObserved: assembler.checkpointObserved,
        segments,
        headerlessLastSegment: headerless,
        committedTransactions: assembler.committed,
        abortedTransactions: assembler.aborted,
        uncommittedTransactions: assembler.openTransactions,
        records: assembler.records,
        complete,
        // The reference predates the fence fields of the outcome; the differential test folds them away.
      } as unknown as ReplayOutcome);
    }
  }

  #chunkOptions() {
    return this.#options.chunkBytes === undefined ? {} : { chunkBytes: this.#options.chunkBytes };
  }

  /**
   * Rotation creates each segment with the next id, and truncation removes only segments whose records are all at
   * or below the fence. So an id missing in the middle is either what a crash during truncation leaves (an older
   * unlink undone while a newer one held: harmless when everything before `baseLsn` is at or below the fence) or a
   * lost segment whose records would otherwise vanish silently.
   */
  #missingBetween(
    previous: SegmentSummary,
    path: string,
    id: number | undefined,
    baseLsn: number,
  ): CorruptionInfo | undefined {
    if (previous.id === undefined || id === undefined || id === previous.id + 1) return undefined;
    if (baseLsn - 1 <= (this.#options.checkpointLsn ?? 0)) return undefined;
    const what =
      id - previous.id === 2
        ? `segment ${previous.id + 1} is missing`
        : `segments ${previous.id + 1}..${id - 1} are missing`;
    return corruptionAtEnd(previous, `${what} between ${previous.path} and ${path}`);
  }

  /**
   * Rotation seals (and fsyncs) a segment before it creates the next one, in LoraDB too: an unsealed segment with a
   * newer one after it is a stale or lost version (an old copy restored).
   */
  #staleBefore(previous: SegmentSummary, path: string): CorruptionInfo {
    return corruptionAtEnd(
      previous,
      `${previous.path} is not sealed, but ${path} follows it (a stale or lost version)`,
    );
  }

  /** The size of a newest segment the shared damage rules take for headerless; `undefined` otherwise. */
  async #headerlessSize(path: string, error: unknown): Promise<number | undefined> {
    const damage = await classifyHeaderFailure(this.#fs, path, error, true);
    return damage?.kind === "headerless" ? damage.fileSize : undefined;
  }
}

/** Corruption placed at the end of `segment`, so `point-in-time` keeps that segment and moves the rest aside. */
function corruptionAtEnd(segment: SegmentSummary, why: string): CorruptionInfo {
  const error = new WalError("WAL_CORRUPT", `WAL corruption: ${why}`, {
    details: {
      path: segment.path,
      segment: segment.path,
      offset: segment.endOffset,
      ...(segment.id === undefined ? {} : { segmentId: segment.id }),
    },
  });
  return {
    segmentPath: segment.path,
    segmentId: segment.id,
    offset: segment.endOffset,
    error,
    validRecordAfter: undefined,
  };
}
