/**
 * The walk of a replay (see `replay.ts`): the segments of its plan in order, their records through the transaction
 * assembler, damage through `replay-damage.ts`, and the outcome settled when the walk ends.
 */

import { optionOr, type PayloadCodec, returnsFreshBatches, type WalRecord } from "@lora/wal-codec";
import { type ReadStep, SEGMENT_HEADER_BYTES, type SegmentReader, type WalFileSystem } from "@lora/wal-segment";
import { DurableBindingCheck } from "./durable-binding.js";
import type { CoveredHole } from "./hole-cover.js";
import { OrderedCalls } from "./ordered-calls.js";
import { ReadBufferRelay } from "./read-buffer-relay.js";
import { type ReplayFindings, recordDamage } from "./replay-damage.js";
import { isFenceError, type SpanMap, withUsableFence } from "./replay-fence.js";
import { type OutcomeSettle, replayOutcome } from "./replay-outcome.js";
import { measureRange, type ReplayPlan } from "./replay-plan.js";
import { ProgressMeter } from "./replay-progress.js";
import type { RecoveryMode, ReplayedTransaction, ReplayOptions, SegmentSummary } from "./replay-types.js";
import { segmentIdOf } from "./segment-continuity.js";
import { openSegment } from "./segment-open.js";
import { TransactionAssembler } from "./transaction-assembler.js";

const ABORT_CHECK_EVERY = 4096;

const DONE: IteratorReturnResult<undefined> = Object.freeze({ value: undefined, done: true });

/**
 * The sweep itself, as a hand-written async iterator rather than an async generator: in the common case (the next
 * records are whole in the read buffer) `next()` runs a plain synchronous loop over
 * {@link SegmentReader.nextBufferedRecord} until a transaction commits and resolves with it at once, so a record
 * costs no promise, no generator step and no step object, and a transaction one already-resolved promise. Everything
 * else (listing, opening a segment, refills, the end of a segment, damage, errors) takes the asynchronous
 * `#advance` path, which is the former generator's logic step by step: same checks, same order,
 * same outcome.
 */
export class ReplayWalk<E> implements AsyncIterator<ReplayedTransaction<E>> {
  readonly #list: () => Promise<ReplayPlan>;
  readonly #fs: WalFileSystem;
  readonly #options: ReplayOptions<E>;
  readonly #codec: PayloadCodec<E>;
  readonly #signal: AbortSignal | undefined;
  readonly #mode: RecoveryMode;
  readonly #settle: OutcomeSettle;
  readonly #assembler: TransactionAssembler<E>;
  /**
   * Maps the log's transaction boundaries for a fence error; `undefined` in the walk that maps them, which is lenient:
   * missing begins are skipped, fence errors never raised.
   */
  readonly #mapSpans: (() => Promise<SpanMap>) | undefined;
  /** `upto`, or Infinity. */
  readonly #upto: number;
  /** `after`, or 0: transactions committed at or below it are not handed over. */
  readonly #after: number;
  /** `restartLsn`, or `after + 1`: transactions begun below it are not handed over. */
  readonly #restartLsn: number;
  /** Committed transactions not handed over because they fall before the resume token. */
  #skipped = 0;

  #paths: string[] | undefined;
  /** What the plan says besides the paths (see {@link ReplayPlan}). */
  #oldestBaseLsn: number | undefined;
  #hole: CoveredHole | undefined;
  #dir: string | undefined;
  /** The durable mark of `#dir`, checked when damage could be a torn tail. */
  #binding: DurableBindingCheck | undefined;
  /** The progress accounting, when there is an `onProgress` to call. */
  readonly #meter: ProgressMeter | undefined;
  #index = 0;
  /** No more segments are walked: the end, damage that ends the sweep, an error, or an early return. */
  #finished = false;
  /** The outcome is settled and `next()` answers done. */
  #done = false;
  /** Calls of `next()`/`return()`, answered in the order they were made, as an async generator answers them. */
  readonly #calls = new OrderedCalls();
  /** An error thrown by the synchronous fast path, rethrown by the asynchronous path that cleans up. */
  #thrown: { readonly error: unknown } | undefined;
  /** One read buffer for the whole walk, handed from each segment's reader to the next. */
  readonly #readBuffer = new ReadBufferRelay();

  readonly #segments: SegmentSummary[] = [];
  #lastGoodOffset = SEGMENT_HEADER_BYTES;
  /** The damage found, for the outcome. */
  readonly #found: ReplayFindings = { tornTail: null, corruption: null, headerless: null };

  // The segment being read.
  #reader: SegmentReader | undefined;
  #path = "";
  #id: number | undefined;
  #isLast = false;
  #baseLsn = 0;
  #records = 0;
  #firstLsn: number | undefined;
  #lastLsn: number | undefined;

  constructor(
    list: () => Promise<ReplayPlan>,
    fs: WalFileSystem,
    options: ReplayOptions<E>,
    mode: RecoveryMode,
    settle: OutcomeSettle,
    mapSpans: (() => Promise<SpanMap>) | undefined,
  ) {
    this.#mapSpans = mapSpans;
    this.#upto = optionOr(options.upto, optionOr(options.uptoLsn, Number.POSITIVE_INFINITY));
    this.#after = optionOr(options.after, 0);
    this.#restartLsn = optionOr(options.restartLsn, this.#after + 1);
    this.#list = list;
    this.#fs = fs;
    this.#options = options;
    this.#codec = options.codec;
    this.#signal = options.signal;
    this.#mode = mode;
    this.#settle = settle;
    this.#assembler = new TransactionAssembler<E>(
      optionOr(options.checkpointLsn, 0),
      mapSpans === undefined,
      // With `after`, a transaction begun before the first segment read began at or below `after`: skipped.
      options.allowTruncatedHistory === true || options.after !== undefined,
      options.after !== undefined,
      returnsFreshBatches(options.codec as PayloadCodec<unknown>),
    );
    this.#meter = options.onProgress === undefined ? undefined : new ProgressMeter(options.onProgress, this.#assembler);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<ReplayedTransaction<E>>> {
    if (this.#calls.idle) {
      const fast = this.#fastStep();
      if (fast !== undefined) return Promise.resolve(fast);
      return this.#calls.run(() => this.#advance());
    }
    return this.#calls.run(() => {
      const fast = this.#fastStep();
      return fast === undefined ? this.#advance() : Promise.resolve(fast);
    });
  }

  /** Stop early (a `break` out of `for await`): close the segment, report `complete: false`. */
  return(): Promise<IteratorResult<ReplayedTransaction<E>>> {
    return this.#calls.run(async () => {
      if (!this.#done) {
        await this.#stop();
        this.#finish(false);
      }
      return DONE;
    });
  }

  /**
   * The next transaction when it can be had synchronously from the buffered records; `undefined` when the
   * asynchronous path must continue (an error thrown here is kept for it to rethrow after cleaning up).
   */
  #fastStep(): IteratorYieldResult<ReplayedTransaction<E>> | undefined {
    const reader = this.#reader;
    if (reader === undefined || this.#thrown !== undefined) return undefined;
    try {
      const committed = this.#drainBuffered(reader);
      return committed === undefined ? undefined : { value: committed, done: false };
    } catch (error) {
      this.#thrown = { error };
      return undefined;
    }
  }

  /**
   * Apply buffered records until one commits a transaction (returned) or the buffer holds no whole valid record
   * (`undefined`: the asynchronous path takes over at the same position).
   */
  #drainBuffered(reader: SegmentReader): ReplayedTransaction<E> | undefined {
    const codec = this.#codec;
    const bounded = this.#upto !== Number.POSITIVE_INFINITY;
    for (;;) {
      // With an upper bound, a record is looked at (its LSN only) before it is decoded; the asynchronous path stops.
      if (bounded && !((reader.peekBufferedLsn() ?? Number.POSITIVE_INFINITY) <= this.#upto)) return undefined;
      const record = reader.nextBufferedRecord(codec);
      if (record === undefined) return undefined;
      const committed = this.#apply(record, reader);
      if (committed !== undefined) return committed;
    }
  }

  #apply(record: WalRecord<E>, reader: SegmentReader): ReplayedTransaction<E> | undefined {
    const assembler = this.#assembler;
    const committed = assembler.apply(record, this.#baseLsn, this.#path);
    this.#records++;
    this.#firstLsn ??= record.lsn;
    this.#lastLsn = record.lsn;
    this.#lastGoodOffset = reader.position;
    const meter = this.#meter;
    if (meter !== undefined) meter.advance(reader.position);
    const signal = this.#signal;
    // Before a transaction is handed over, so none reaches the caller once abort() has returned; between commits,
    // every few thousand records, so a long transaction stops too (a property read each: it is the hot path).
    if (signal !== undefined && (committed !== undefined || assembler.records % ABORT_CHECK_EVERY === 0)) {
      signal.throwIfAborted();
    }
    if (committed !== undefined && (committed.beginLsn < this.#restartLsn || committed.commitLsn <= this.#after)) {
      this.#skipped++;
      return undefined;
    }
    return committed;
  }

  async #advance(): Promise<IteratorResult<ReplayedTransaction<E>>> {
    if (this.#done) return DONE;
    try {
      const thrown = this.#thrown;
      if (thrown !== undefined) {
        this.#thrown = undefined;
        throw thrown.error;
      }
      const committed = await this.#nextCommitted();
      if (committed !== undefined) return { value: committed, done: false };
      this.#finish(true);
      return DONE;
    } catch (thrown) {
      // As in a `finally` that awaits the close: a failing close replaces the error in flight.
      await this.#stop();
      const error = await this.#withUsableFence(thrown);
      this.#fail(error);
      throw error;
    }
  }

  /**
   * A fence error completed with the fence the caller can use: the log's transaction boundaries are mapped by a
   * second, lenient walk (payloads not decoded), which only this error path pays for.
   */
  async #withUsableFence(error: unknown): Promise<unknown> {
    const mapSpans = this.#mapSpans;
    if (mapSpans === undefined || !isFenceError(error)) return error;
    let map: SpanMap;
    try {
      map = await mapSpans();
    } catch {
      return error; // The log has other problems; the fence error stands without a suggestion.
    }
    return withUsableFence(error, optionOr(this.#options.checkpointLsn, 0), map);
  }

  /** The next committed transaction, or `undefined` when the sweep has ended (normally or at reported damage). */
  async #nextCommitted(): Promise<ReplayedTransaction<E> | undefined> {
    const codec = this.#codec;
    for (;;) {
      if (this.#finished) return undefined;
      const reader = this.#reader;
      if (reader === undefined) {
        if (!(await this.#openNext())) this.#finished = true;
        continue;
      }
      const buffered = this.#drainBuffered(reader);
      if (buffered !== undefined) return buffered;
      if (this.#upto !== Number.POSITIVE_INFINITY) {
        const lsn = await reader.peekLsn();
        if (lsn !== undefined && lsn > this.#upto) {
          this.#segments.push(this.#summary(reader));
          this.#finished = true;
          await this.#closeReader();
          continue;
        }
      }
      const step = await reader.next(codec);
      if (step.kind === "end") {
        this.#segments.push(this.#summary(reader));
        await this.#closeReader();
        continue;
      }
      if (step.kind === "damaged") {
        this.#segments.push(this.#summary(reader));
        await this.#classify(reader, step);
        // Reported, not thrown (the mode allows it): the sweep ends here.
        this.#finished = true;
        await this.#closeReader();
        continue;
      }
      const committed = this.#apply(step.record, reader);
      if (committed !== undefined) return committed;
    }
  }

  /**
   * Open the next segment and check how it follows the previous one. False when the sweep ends without it: no more
   * segments, a headerless newest segment, or a reported gap or stale segment.
   */
  async #openNext(): Promise<boolean> {
    if (this.#paths === undefined) {
      this.#signal?.throwIfAborted();
      const plan = await this.#list();
      this.#oldestBaseLsn = plan.oldestBaseLsn;
      this.#hole = plan.hole;
      // A seek to the fence (not to `after`, whose own rule skips what began before the walk).
      if (plan.oldestBaseLsn !== undefined && this.#options.after === undefined) {
        this.#assembler.retainedFrom(plan.oldestBaseLsn - 1);
      }
      this.#dir = plan.dir;
      const markDir = optionOr(this.#options.durableMarkDir, plan.dir);
      if (markDir !== undefined) {
        this.#binding = new DurableBindingCheck(this.#fs, markDir);
        // Before any record is read: a mark read later could vouch for a live writer's write the walk saw torn.
        await this.#binding.prime();
      }
      if (this.#meter !== undefined) this.#meter.setRange(await measureRange(this.#fs, plan.paths, this.#upto));
      this.#paths = plan.paths;
    }
    const paths = this.#paths;
    if (this.#index >= paths.length) return false;
    const i = this.#index++;
    const path = paths[i] as string;
    const isLast = i === paths.length - 1;
    const id = segmentIdOf(path);
    const reader = await openSegment({
      fs: this.#fs,
      path,
      id,
      isLast,
      previous: this.#segments.at(-1),
      readerOptions: this.#readBuffer.readerOptions(this.#options.chunkBytes),
      found: this.#found,
      mode: this.#mode,
      fence: optionOr(this.#options.checkpointLsn, 0),
      allowTruncatedHistory: this.#options.allowTruncatedHistory,
      // The records from the token's restart point on must be in the log.
      after: this.#options.after === undefined ? undefined : this.#restartLsn - 1,
      oldestBaseLsn: this.#oldestBaseLsn,
      hole: this.#hole,
      dir: this.#dir,
      upto: this.#upto,
      onLostBegin: (lostBegin, error) => this.#assembler.lostBegin(lostBegin, error),
    });
    if (reader === undefined) return false;
    this.#reader = reader;
    this.#path = path;
    this.#id = id;
    this.#isLast = isLast;
    this.#baseLsn = reader.header.baseLsn;
    this.#records = 0;
    this.#firstLsn = undefined;
    this.#lastLsn = undefined;
    this.#meter?.enterSegment(i);
    this.#signal?.throwIfAborted();
    this.#assembler.enterSegment(this.#baseLsn, path);
    this.#lastGoodOffset = reader.position;
    return true;
  }

  /**
   * Damage at `step`, classified by the shared damage rules (`damage-rules.ts`): a torn tail or corruption is
   * recorded and thrown when the mode says so; a codec mismatch is thrown in every mode.
   */
  #classify(reader: SegmentReader, step: Extract<ReadStep<E>, { kind: "damaged" }>): Promise<void> {
    return recordDamage(this.#found, this.#mode, this.#path, {
      fs: this.#fs,
      reader,
      step,
      newest: this.#isLast,
      segmentId: this.#id,
      lastLsn: this.#assembler.lastLsn,
      codec: this.#codec,
      ...(this.#options.unsyncedWindowBytes === undefined
        ? {}
        : { unsyncedWindowBytes: this.#options.unsyncedWindowBytes }),
      // The damaged segment's summary is already in the list, ending at the damage.
      walked: this.#segments,
      ...(this.#binding === undefined ? {} : { durableBinding: this.#binding }),
    });
  }

  #summary(reader: SegmentReader): SegmentSummary {
    return {
      id: this.#id,
      path: this.#path,
      baseLsn: this.#baseLsn,
      sealed: reader.header.sealed,
      fileSize: reader.fileSize,
      records: this.#records,
      firstLsn: this.#firstLsn,
      lastLsn: this.#lastLsn,
      endOffset: this.#lastGoodOffset,
    };
  }

  /** End the sweep early and close the segment; a failing close fails the replay with its error (thrown). */
  async #stop(): Promise<void> {
    this.#finished = true;
    try {
      await this.#closeReader();
    } catch (error) {
      this.#fail(error);
      throw error;
    }
  }

  async #closeReader(): Promise<void> {
    const reader = this.#reader;
    if (reader === undefined) return;
    this.#reader = undefined;
    this.#readBuffer.keepFrom(reader);
    await reader.close();
  }

  #fail(error: unknown): void {
    if (this.#done) return;
    this.#done = true;
    this.#settle.reject(error);
  }

  #finish(complete: boolean): void {
    if (this.#done) return;
    this.#done = true;
    if (complete && this.#meter !== undefined) {
      // Damage ends the walk where it is; otherwise the range was read to its end (the rest is above `upto`).
      this.#meter.finish(this.#lastGoodOffset, this.#found.tornTail !== null || this.#found.corruption !== null);
    }
    this.#settle.resolve(
      replayOutcome(this.#assembler, {
        oldestBaseLsn: this.#oldestBaseLsn,
        lastGoodOffset: this.#lastGoodOffset,
        found: this.#found,
        segments: this.#segments,
        skipped: this.#skipped,
        complete,
      }),
    );
  }
}
