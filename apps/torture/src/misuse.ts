/**
 * The misuse tier (issue 12: "no call and no mistake can brick the log"). Each case is a seeded random sequence of
 * calls on a fresh SimFS that mixes valid work (commitTx, several interleaved low-level transactions, sync, flush,
 * checkpoint(safeCheckpointLsn()), truncateUpTo, clean reopens, crashes) with misuse: transaction ids that are not
 * open (never begun, finished, a commitTx's begin, from before a reopen or crash, NaN/-1/1.5/...), checkpoint
 * markers, checkpoints and truncation fences at every LSN from 0 to nextLsn + 2 (exhaustively for short logs, in
 * ascending, descending or shuffled order), checkpoints while low-level transactions are open, LSN arguments that
 * are not LSNs, events a custom codec cannot encode (out-of-range integers), close races, opens at every fence, and
 * opens with the wrong codec in every recovery mode.
 *
 * The model (misuse-model.ts) predicts every call's fate. The invariant, checked after every call: a call is either
 * accepted when the model says it is valid, or refused with the WalError code the model names, and then nextLsn is
 * unchanged and (when the case checks it, always in sweeps) the directory's bytes after a sync are identical. After
 * every call (before the next one, when the model knows what it committed), the crash images SimFS captured during
 * it (at every file-system operation: "drop all unsynced" and "keep all") and, at a crash, up to 6 sampled images,
 * are reopened in the default recovery mode at the fence the
 * model says is the store's snapshot, with exactly the model's committed transactions (every acknowledged one, none
 * aborted or uncommitted, a prefix in commit order). Clean reopens recover every committed transaction exactly.
 *
 * A violation that takes the log out of the model's reach (an accepted misuse, a refused valid call, a refusal that
 * wrote, a wrong recovered history) ends its sequence; one that does not (a refusal with another code, a wrong
 * verdict of an open of the closed log, a wrong-codec open, which runs on a copy) is reported once per sequence and
 * the sequence goes on.
 *
 * The work is bounded by count (a fixed list of sequences), never by a deadline, so the verdict does not depend on
 * the machine's speed.
 */

import {
  isWalError,
  type JsonValue,
  jsonCodec,
  type PayloadCodec,
  Wal,
  type WalError,
  type WalErrorCode,
  type WalOptions,
} from "@lora/wal";
import { type PlantedBug, withTestingHooks } from "@lora/wal/testing";
import { RECOVERY_MODES } from "@lora/wal-replay";
import { decodeSegmentHeader, listSegments } from "@lora/wal-segment";
import { type CrashImage, SimFS } from "@lora/wal-segment/testing";
import { hasReorderedSectors, imageKey } from "./crash-check.js";
import { type FenceVerdict, MisuseModel, type MisuseSnapshot } from "./misuse-model.js";
import { checkHistory, type Expectation, expectedAbove, type RecoveredTx } from "./oracle.js";
import { between, mix, type Rng, rng, shuffle } from "./prng.js";
import { TierResult, type ViolationKind } from "./result.js";
import { WAL_DIR } from "./workloads.js";

/** Sequences of the default bounded run, of `--smoke`, and added per extra minute of `--minutes`. */
export const MISUSE_SEQUENCES = 100;
export const MISUSE_SMOKE_SEQUENCES = 15;
export const MISUSE_EXTRA_PER_MINUTE = 100;

/** Sweeps cover every LSN up to this many; longer logs get the LSNs around every record kind plus a sample. */
const EXHAUSTIVE_SWEEP = 160;

export interface MisuseOptions {
  readonly seed: number;
  /** Run cases `0 .. sequences - 1` (unless `cases` names them). */
  readonly sequences: number;
  readonly cases?: readonly number[];
  readonly bugs?: readonly PlantedBug[];
  /** Stop at the first violation (planted-bug runs). */
  readonly stopOnFirst?: boolean;
  /** Open each log with the wrong codec in every recovery mode at its end. @default true */
  readonly wrongCodec?: boolean;
  /**
   * In a close race, also call commitTx after close() (must reject WAL_CLOSED). Planted-bug runs turn it off for
   * the bug run and its clean control alike: with any planted bug on, commitTx takes the handle's slow path, which
   * admits a call made while close() still waits for earlier ones. @default true
   */
  readonly commitAfterClose?: boolean;
  readonly onProgress?: (r: TierResult) => void;
}

export function misuseReplay(seed: number, index: number): string {
  return `pnpm torture -- --tier misuse --seed ${seed} --case ${index}`;
}

/** How many sequences a run makes: a fixed count, plus an extra that only `--minutes` above 1 adds. */
export function misuseSequenceCount(smoke: boolean, minutes: number): number {
  if (smoke) return MISUSE_SMOKE_SEQUENCES;
  return MISUSE_SEQUENCES + Math.floor(Math.max(0, minutes - 1) * MISUSE_EXTRA_PER_MINUTE);
}

export async function runMisuse(opts: MisuseOptions): Promise<TierResult> {
  const result = new TierResult("misuse");
  const start = Date.now();
  const indices = opts.cases ?? Array.from({ length: opts.sequences }, (_, i) => i);
  result.extra.casesPlanned = indices.length;
  for (const key of ["calls", "refusals", "imagesCaptured", "sweeps", "reopenProbes", "wrongCodecOpens"]) {
    result.extra[key] = 0;
  }
  for (const index of indices) {
    await new Sequence(index, opts, result).run();
    result.cases++;
    opts.onProgress?.(result);
    if (opts.stopOnFirst === true && result.violations.length > 0) break;
  }
  result.ms = Date.now() - start;
  return result;
}

// ---- the codec -----------------------------------------------------------------------------------------------

/** The integer writers of ByteWriter, called loosely so every out-of-range value can be tried. */
type IntWriter = Record<"u8" | "i8" | "i16" | "i32" | "u32" | "u64" | "i64", (value: number | bigint) => void>;

/** Out-of-range integers a buggy custom codec might write: each must make the call reject `WAL_ENCODE`. */
export const BAD_INTS: readonly (readonly [string, (out: IntWriter) => void])[] = [
  ["u64(-1)", (o) => o.u64(-1)],
  ["u64(2^53)", (o) => o.u64(2 ** 53)],
  ["u64(1.5)", (o) => o.u64(1.5)],
  ["u64(-1n)", (o) => o.u64(-1n)],
  ["u64(2^64 as bigint)", (o) => o.u64(2n ** 64n)],
  ["i64(2^63 as bigint)", (o) => o.i64(2n ** 63n)],
  ["u32(-1)", (o) => o.u32(-1)],
  ["u32(2^32)", (o) => o.u32(2 ** 32)],
  ["i32(2^31)", (o) => o.i32(2 ** 31)],
  ["i16(40000)", (o) => o.i16(40000)],
  ["i8(128)", (o) => o.i8(128)],
  ["u8(256)", (o) => o.u8(256)],
  ["u8(-1)", (o) => o.u8(-1)],
  ["u8(NaN)", (o) => o.u8(Number.NaN)],
];

const BAD_EVENT = "!bad-int:";

function badIntOf(event: unknown): ((out: IntWriter) => void) | undefined {
  if (typeof event !== "string" || !event.startsWith(BAD_EVENT)) return undefined;
  return BAD_INTS[Number(event.slice(BAD_EVENT.length))]?.[1];
}

/**
 * jsonCodec, except that an event `"!bad-int:<k>"` is encoded by writing a few bytes and then the k-th bad integer
 * of {@link BAD_INTS}: a custom codec with an encoding bug. The log stays readable by jsonCodec.
 */
export const misuseCodec: PayloadCodec<JsonValue> = {
  name: "json",
  encodeEvent(event, out) {
    const bad = badIntOf(event);
    if (bad !== undefined) {
      out.utf8('"half');
      bad(out as unknown as IntWriter);
    }
    jsonCodec.encodeEvent(event, out);
  },
  encodeBatch(events, out) {
    const bad = events.map(badIntOf).find((b) => b !== undefined);
    if (bad !== undefined) {
      out.utf8('["half"');
      bad(out as unknown as IntWriter);
    }
    jsonCodec.encodeBatch(events, out);
  },
  decodeEvent: (payload) => jsonCodec.decodeEvent(payload),
  decodeBatch: (payload) => jsonCodec.decodeBatch(payload),
};

// ---- helpers -------------------------------------------------------------------------------------------------

type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: WalError };
type Expect = "accept" | readonly WalErrorCode[];
type FenceTarget = "checkpointMarker" | "truncateUpTo" | "checkpoint";

/** Thrown to end a sequence at its first violation (the model cannot follow a log that went wrong). */
class Stop extends Error {}

function text(e: unknown): string {
  if (isWalError(e)) return `${e.code}: ${e.message}`;
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

function show(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "bigint") return `${v}n`;
  return Object.is(v, -0) ? "-0" : String(v);
}

/** The bytes of every file in the log directory (dot files, the lock's, excluded). */
function dirBytes(fs: SimFS): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  let names: string[];
  try {
    names = fs.listSync(WAL_DIR);
  } catch {
    return out;
  }
  for (const name of names.sort()) if (!name.startsWith(".")) out.set(name, fs.readFileSync(`${WAL_DIR}/${name}`));
  return out;
}

/** How two directory states differ, or null when byte-identical. */
function dirDiff(a: Map<string, Uint8Array>, b: Map<string, Uint8Array>): string | null {
  const diffs: string[] = [];
  for (const [name, bytes] of a) {
    const other = b.get(name);
    if (other === undefined) diffs.push(`${name} removed`);
    else if (Buffer.compare(bytes, other) !== 0) diffs.push(`${name} ${bytes.byteLength} → ${other.byteLength} bytes`);
  }
  for (const name of b.keys()) if (!a.has(name)) diffs.push(`${name} created`);
  return diffs.length === 0 ? null : diffs.join(", ");
}

/** The lowest fence the closed log can serve: its oldest segment's base LSN minus one (0 without segments). */
async function oldestFenceOf(fs: SimFS): Promise<number> {
  const segments = await listSegments(fs, WAL_DIR);
  const first = segments[0];
  if (first === undefined) return 0;
  return decodeSegmentHeader(fs.readFileSync(first.path), first.path).baseLsn - 1;
}

interface SequenceConfig {
  readonly mode: "perCommit" | "none";
  readonly segmentTargetBytes: number;
  readonly startFence: number;
  readonly steps: number;
}

export function sequenceConfig(seed: number, index: number): SequenceConfig {
  const next = rng(mix(seed, 0x3d15, index));
  return {
    mode: next() < 0.6 ? "perCommit" : "none",
    segmentTargetBytes: next() < 0.75 ? between(next, 160, 480) : 1 << 20,
    startFence: next() < 0.7 ? 0 : between(next, 1, 30),
    steps: between(next, 16, 40),
  };
}

interface Capture {
  readonly images: Iterable<CrashImage>;
  readonly snap: MisuseSnapshot;
  readonly at: string;
}

const PAD = "~".repeat(300);
const DEBUG = process.env.TORTURE_DEBUG === "1";

// ---- one sequence --------------------------------------------------------------------------------------------

class Sequence {
  readonly #index: number;
  readonly #opts: MisuseOptions;
  readonly #result: TierResult;
  readonly #cfg: SequenceConfig;
  readonly #seed: number;
  readonly #next: Rng;
  readonly #bugs: readonly PlantedBug[];
  #fs = new SimFS();
  #wal: Wal<JsonValue> | undefined;
  #model: MisuseModel | undefined;
  #unsubscribe: () => void = () => undefined;
  #captures: Capture[] = [];
  #capturing = true;
  /** Set while calls are in flight whose commits the model does not know yet (close races). */
  #deferCaptures = false;
  #captureNo = 0;
  readonly #seen = new Set<string>();
  #callNo = 0;
  readonly #recent: string[] = [];
  readonly #softTags = new Set<string>();

  constructor(index: number, opts: MisuseOptions, result: TierResult) {
    this.#index = index;
    this.#opts = opts;
    this.#result = result;
    this.#cfg = sequenceConfig(opts.seed, index);
    this.#seed = mix(opts.seed, 0x3d16, index);
    this.#next = rng(this.#seed);
    this.#bugs = opts.bugs ?? [];
  }

  get #m(): MisuseModel {
    return this.#model as MisuseModel;
  }

  get #w(): Wal<JsonValue> {
    return this.#wal as Wal<JsonValue>;
  }

  async run(): Promise<void> {
    try {
      this.#watch(this.#fs);
      await this.#openFirst();
      await this.#sentinelTxIds();
      for (let n = 0; n < this.#cfg.steps; n++) await this.#step();
      await this.#finale();
      await this.#checkCaptures();
    } catch (e) {
      if (!(e instanceof Stop)) this.#report("error", `the sequence failed outside any check: ${text(e)}`);
    } finally {
      this.#unsubscribe();
      await this.#wal?.close().catch(() => undefined);
    }
  }

  // ---- reporting ---------------------------------------------------------------------------------------------

  #describe(): string {
    const c = this.#cfg;
    const target = c.segmentTargetBytes >= 1 << 20 ? "one-segment" : `${c.segmentTargetBytes}B-segments`;
    return `${c.mode}/${target}/start-fence-${c.startFence}`;
  }

  #report(kind: ViolationKind, message: string): void {
    this.#result.add({
      tier: "misuse",
      kind,
      caseId: `${this.#index}`,
      message: `${this.#describe()}, call ${this.#callNo} [${this.#recent.slice(-8).join("; ")}]: ${message}`,
      replay: misuseReplay(this.#opts.seed, this.#index),
    });
  }

  /** Report and end the sequence: the model can no longer follow the log. */
  #fail(kind: ViolationKind, message: string): never {
    this.#report(kind, message);
    throw new Stop(message);
  }

  /**
   * Report a violation that leaves the log and the model in step (a refusal with another code, a value checked
   * but not used, a probe of the closed log, a wrong-codec open of a copy), and go on; once per sequence per `tag`.
   */
  #soft(kind: ViolationKind, tag: string, message: string): void {
    if (this.#softTags.has(tag)) {
      this.#result.bump("repeatedFindings");
      return;
    }
    this.#softTags.add(tag);
    this.#report(kind, message);
  }

  /** Count a refusal, and by code (the figures show which rules the run exercised). */
  #refused(code: string): void {
    this.#result.bump("refusals");
    this.#result.bump(`refused.${code}`);
  }

  #note(label: string): void {
    this.#callNo++;
    this.#result.bump("calls");
    this.#recent.push(label);
    if (this.#recent.length > 8) this.#recent.shift();
    if (DEBUG) process.stderr.write(`[misuse ${this.#index}] #${this.#callNo} ${label}\n`);
  }

  #chance(p: number): boolean {
    return this.#next() < p;
  }

  #pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.#next() * items.length)] as T;
  }

  // ---- crash images ------------------------------------------------------------------------------------------

  #watch(fs: SimFS): void {
    this.#unsubscribe();
    this.#fs = fs;
    this.#unsubscribe = fs.onOperation((e) => {
      if (!this.#capturing || this.#model === undefined) return;
      this.#result.bump("imagesCaptured", 2);
      this.#captures.push({
        images: fs.crashImages({ maxImages: 2, seed: mix(this.#seed, this.#captureNo++) }),
        snap: this.#m.snapshot(),
        at: `op ${e.seq} (${e.op} ${e.path}${e.failed ? ", failed" : ""}) during ${this.#recent.at(-1) ?? "open"}`,
      });
    });
  }

  /**
   * Check the crash images captured so far. Called before each call, when the model knows what the previous one
   * committed (an image may hold a commit whose call had not returned when it was taken).
   */
  async #checkCaptures(): Promise<void> {
    if (this.#deferCaptures) return;
    const captures = this.#captures;
    this.#captures = [];
    for (const c of captures) {
      for (const image of c.images) {
        const processCrash = image.description.startsWith("[keep all]");
        const key = `${imageKey(image.fs)}#${c.snap.fence}/${c.snap.durableLsn}/${processCrash ? c.snap.writtenLsn : -1}`;
        if (this.#seen.has(key)) continue;
        this.#seen.add(key);
        await this.#checkImage(image.fs, c.snap, processCrash, `crash at ${c.at}, image "${image.description}"`);
      }
    }
  }

  /**
   * Reopen a crash image in the default recovery mode at the store's fence and compare with the model: a prefix of
   * the committed transactions in commit order holding every acknowledged one, and exactly those whose commit
   * record survived. Returns the open handle when `keep`, else closes it.
   */
  async #checkImage(
    img: SimFS,
    snap: MisuseSnapshot,
    processCrash: boolean,
    what: string,
    keep = false,
  ): Promise<{ wal: Wal<JsonValue>; maxLsn: number } | undefined> {
    this.#result.crashStates++;
    const exp = this.#m.crashExpectation(snap, processCrash);
    const txs: RecoveredTx[] = [];
    let opened: Awaited<ReturnType<typeof Wal.open<JsonValue>>>;
    try {
      opened = await Wal.open<JsonValue>(WAL_DIR, { ...this.#options(snap.fence, txs), fs: img });
    } catch (e) {
      const reordered = hasReorderedSectors(what) ? " (a torn write whose sectors landed out of order)" : "";
      this.#fail(
        "unopenable",
        `${what}${reordered}: reopening at fence ${snap.fence} (default recovery) failed: ${text(e)}`,
      );
    }
    const maxLsn = opened.replay?.maxLsn ?? 0;
    try {
      this.#compare(txs, exp, maxLsn, `${what}, reopened at fence ${snap.fence}`);
      const next = opened.wal.nextLsn();
      if (next <= Math.max(maxLsn, snap.fence)) {
        this.#fail("lsn", `${what}: nextLsn ${next} after recovery is not above max(maxLsn ${maxLsn}, fence)`);
      }
    } catch (e) {
      await opened.wal.close().catch(() => undefined);
      throw e;
    }
    if (keep) return { wal: opened.wal, maxLsn };
    await opened.wal.close();
    return undefined;
  }

  /** The recovered history against the oracle, and exactly the committed transactions up to `maxLsn`. */
  #compare(txs: readonly RecoveredTx[], exp: Expectation, maxLsn: number, what: string): void {
    const v = checkHistory(txs, exp);
    this.#result.ackedChecked += v.required;
    const first = v.findings[0];
    if (first !== undefined) this.#fail(first.kind, `${what}: ${first.message}`);
    const surviving = expectedAbove(exp).filter((t) => t.commitLsn <= maxLsn).length;
    if (txs.length !== surviving) {
      this.#fail(
        txs.length < surviving ? "lost" : "phantom",
        `${what}: recovered ${txs.length} transactions, but ${surviving} committed ones above the fence have their commit record at or below the last recovered LSN ${maxLsn}`,
      );
    }
  }

  // ---- calls -------------------------------------------------------------------------------------------------

  #options(fence: number, txs?: RecoveredTx[]): WalOptions<JsonValue> {
    const options: WalOptions<JsonValue> = {
      fs: this.#fs,
      codec: misuseCodec,
      syncMode: this.#cfg.mode,
      segmentTargetBytes: this.#cfg.segmentTargetBytes,
      checkpointLsn: fence,
      ...(txs === undefined ? {} : { onTransaction: (t) => void txs.push(t) }),
    };
    return withTestingHooks(options, { plantedBugs: this.#bugs });
  }

  /**
   * Make one call and check it against `expect`: accepted when valid; refused with one of the codes otherwise,
   * nextLsn unchanged and, with `bytes`, the directory identical after a sync.
   */
  async #call<T>(
    label: string,
    expect: Expect,
    fn: () => Promise<T>,
    o: { bytes?: boolean; skipNext?: boolean } = {},
  ): Promise<Outcome<T>> {
    await this.#checkCaptures();
    const refusal = expect !== "accept";
    const baseline = refusal && o.bytes === true ? await this.#baseline() : undefined;
    this.#note(label);
    const next0 = this.#w.nextLsn();
    let outcome: Outcome<T>;
    try {
      outcome = { ok: true, value: await fn() };
    } catch (e) {
      if (!isWalError(e)) this.#fail("error", `${label} threw something that is not a WalError: ${text(e)}`);
      outcome = { ok: false, error: e };
    }
    if (outcome.ok) {
      if (refusal)
        this.#fail("accepted-misuse", `${label} was accepted; it must be refused with ${expect.join(" or ")}`);
      return outcome;
    }
    const e = outcome.error;
    this.#refused(e.code);
    if (!refusal) this.#fail("refused-valid", `${label} was refused (${text(e)}), but the model says it is valid`);
    if (o.skipNext !== true && this.#w.nextLsn() !== next0) {
      this.#fail(
        "refusal-wrote",
        `${label} was refused (${e.code}) but nextLsn moved from ${next0} to ${this.#w.nextLsn()}`,
      );
    }
    if (baseline !== undefined) {
      await this.#sync();
      const diff = dirDiff(baseline, dirBytes(this.#fs));
      if (diff !== null)
        this.#fail("refusal-wrote", `${label} was refused (${e.code}) but changed the directory: ${diff}`);
    }
    if (!expect.includes(e.code)) {
      const tag = `wrong-code:${label.replace(/\(.*$/, "")}:${e.code}`;
      this.#soft("wrong-code", tag, `${label} was refused with ${text(e)}; expected ${expect.join(" or ")}`);
    }
    return outcome;
  }

  /** Sync (a valid call) and read the directory: what a refused call must leave unchanged. */
  async #baseline(): Promise<Map<string, Uint8Array>> {
    await this.#sync();
    return dirBytes(this.#fs);
  }

  #expectAccepted<T>(o: Outcome<T>): T {
    if (!o.ok) throw new Error("unreachable: a refusal of a valid call is a violation");
    return o.value;
  }

  /** The LSN a call returned must be the one the model expects next. */
  #expectLsn(label: string, got: number, expected: number): void {
    if (got !== expected) this.#fail("lsn", `${label} returned LSN ${got}; the next LSN was ${expected}`);
  }

  /** After an accepted call: the handle's nextLsn is the model's. */
  #checkNext(label: string): void {
    if (this.#w.nextLsn() !== this.#m.nextLsn) {
      this.#fail("lsn", `after ${label}, nextLsn is ${this.#w.nextLsn()}; the model says ${this.#m.nextLsn}`);
    }
  }

  #events(id: string, n: number): string[] {
    const padded = this.#chance(0.15);
    return Array.from({ length: n }, (_, i) => `${id}.${i}${padded ? PAD : ""}`);
  }

  // ---- valid calls -------------------------------------------------------------------------------------------

  async #openFirst(): Promise<void> {
    const fence = this.#cfg.startFence;
    this.#note(`open(fence ${fence})`);
    let opened: Awaited<ReturnType<typeof Wal.open<JsonValue>>>;
    try {
      opened = await Wal.open<JsonValue>(WAL_DIR, this.#options(fence));
    } catch (e) {
      this.#fail("unopenable", `opening a new log at fence ${fence} failed: ${text(e)}`);
    }
    this.#wal = opened.wal;
    this.#model = new MisuseModel(fence, opened.wal.nextLsn());
    this.#model.oldestFence = await oldestFenceOf(this.#fs);
    if (opened.wal.nextLsn() <= fence)
      this.#fail("lsn", `a new log opened at fence ${fence} resumes at ${opened.wal.nextLsn()}`);
  }

  async #commitTx(): Promise<void> {
    const id = this.#m.newId();
    const events = this.#events(id, between(this.#next, 1, 3));
    const label = `commitTx(${id})`;
    const info = this.#expectAccepted(await this.#call(label, "accept", () => this.#w.commitTx(events)));
    if (info === null) this.#fail("error", `${label} resolved null for a non-empty transaction`);
    this.#expectLsn(label, info.beginLsn, this.#m.nextLsn);
    this.#m.commitTx(id, info.beginLsn, events);
    if (this.#cfg.mode === "perCommit") this.#m.durable(info.commitLsn);
    else this.#m.written(info.commitLsn);
    this.#checkNext(label);
  }

  async #begin(): Promise<void> {
    const id = this.#m.newId();
    const label = `begin() for ${id}`;
    const lsn = this.#expectAccepted(await this.#call(label, "accept", () => this.#w.begin()));
    this.#expectLsn(label, lsn, this.#m.nextLsn);
    this.#m.begin(id, lsn);
    this.#checkNext(label);
  }

  async #append(): Promise<void> {
    const tx = this.#pick(this.#m.openTxs());
    const k = tx.events.length;
    const batch = this.#chance(0.4);
    const events = Array.from({ length: batch ? between(this.#next, 1, 3) : 1 }, (_, i) => `${tx.id}.${k + i}`);
    const label = batch ? `appendBatch(${tx.begin}, ${events.length} events)` : `append(${tx.begin})`;
    const lsn = this.#expectAccepted(
      await this.#call(label, "accept", () =>
        batch ? this.#w.appendBatch(tx.begin, events) : this.#w.append(tx.begin, events[0] as string),
      ),
    );
    this.#expectLsn(label, lsn, this.#m.nextLsn);
    this.#m.append(tx.begin, lsn, events);
    this.#checkNext(label);
  }

  async #finish(how: "commit" | "abort"): Promise<void> {
    const tx = this.#pick(this.#m.openTxs());
    const label = `${how}(${tx.begin})`;
    const lsn = this.#expectAccepted(
      await this.#call(label, "accept", () => (how === "commit" ? this.#w.commit(tx.begin) : this.#w.abort(tx.begin))),
    );
    this.#expectLsn(label, lsn, this.#m.nextLsn);
    this.#m.finish(tx.begin, lsn, how === "commit" ? "committed" : "aborted");
    this.#checkNext(label);
  }

  async #sync(): Promise<void> {
    const upTo = this.#w.nextLsn() - 1;
    this.#expectAccepted(await this.#call("sync()", "accept", () => this.#w.sync()));
    this.#m.durable(upTo);
  }

  async #flush(): Promise<void> {
    const upTo = this.#w.nextLsn() - 1;
    this.#expectAccepted(await this.#call("flush()", "accept", () => this.#w.flush()));
    if (this.#cfg.mode === "perCommit") this.#m.durable(upTo);
    else this.#m.written(upTo);
  }

  async #whenDurable(): Promise<void> {
    const lsn = between(this.#next, 0, this.#m.nextLsn - 1);
    this.#expectAccepted(await this.#call(`whenDurable(${lsn})`, "accept", () => this.#w.whenDurable(lsn)));
    this.#m.durable(lsn);
  }

  /**
   * `safeCheckpointLsn()` must be a fence the model accepts, and the highest one at or below
   * min(durableLsn, every open begin - 1); then `checkpoint(safe)` is accepted.
   */
  async #checkpointSafe(): Promise<void> {
    const safe = this.#safe();
    await this.#fenceCall("checkpoint", safe, false);
  }

  #safe(): number {
    this.#note("safeCheckpointLsn()");
    const safe = this.#w.safeCheckpointLsn();
    const verdict = this.#m.markerVerdict(safe);
    if (verdict !== "ok") {
      this.#soft("usable-fence", "safe", `safeCheckpointLsn() is ${safe}, which the model refuses (${verdict})`);
    }
    let top = this.#w.durableLsn();
    for (const tx of this.#m.openTxs()) top = Math.min(top, tx.begin - 1);
    const higher = this.#m.highestValidAtOrBelow(top);
    if (higher !== undefined && higher > safe) {
      this.#soft(
        "usable-fence",
        "safe-highest",
        `safeCheckpointLsn() is ${safe}, but ${higher} (≤ durableLsn and below every open begin) is valid`,
      );
    }
    return safe;
  }

  async #truncateValid(): Promise<void> {
    const m = this.#m;
    const f = this.#pick([m.fence, between(this.#next, 0, m.fence), this.#w.safeCheckpointLsn()]);
    await this.#fenceCall("truncateUpTo", f, false);
  }

  async #close(): Promise<void> {
    this.#expectAccepted(await this.#call("close()", "accept", () => this.#w.close()));
    this.#m.handleGone(this.#m.maxRecordLsn);
  }

  /** Open the closed log at the store's fence (a valid open): every committed transaction above it, exactly. */
  async #openAtFence(): Promise<void> {
    await this.#checkCaptures();
    const m = this.#m;
    const fence = m.fence;
    this.#note(`open(fence ${fence})`);
    const txs: RecoveredTx[] = [];
    let opened: Awaited<ReturnType<typeof Wal.open<JsonValue>>>;
    try {
      opened = await Wal.open<JsonValue>(WAL_DIR, this.#options(fence, txs));
    } catch (e) {
      this.#fail("unopenable", `reopening the closed log at the store's fence ${fence} failed: ${text(e)}`);
    }
    this.#wal = opened.wal;
    const maxLsn = opened.replay?.maxLsn ?? 0;
    this.#compare(txs, m.cleanExpectation(fence), Number.MAX_SAFE_INTEGER, `clean reopen at fence ${fence}`);
    if (maxLsn !== m.maxRecordLsn) {
      this.#fail(
        "lsn",
        `clean reopen: the last record recovered is ${maxLsn}; the last one written was ${m.maxRecordLsn}`,
      );
    }
    const next = opened.wal.nextLsn();
    if (next <= Math.max(maxLsn, fence))
      this.#fail("lsn", `clean reopen at fence ${fence}: nextLsn ${next} is not past ${Math.max(maxLsn, fence)}`);
    m.opened(next, await oldestFenceOf(this.#fs));
  }

  async #reopen(): Promise<void> {
    await this.#close();
    if (this.#opts.wrongCodec !== false && this.#chance(0.15)) await this.#wrongCodec();
    if (this.#chance(0.25)) await this.#reopenSweep();
    await this.#openAtFence();
  }

  /**
   * A power loss now: every sampled crash image (up to 6: "drop all unsynced", "keep all", torn writes, lost
   * directory entries) is reopened and checked; the sequence continues on one of them.
   */
  async #crash(): Promise<void> {
    await this.#checkCaptures();
    this.#note("crash");
    this.#result.bump("crashes");
    const images = [...this.#fs.crashImages({ maxImages: 6, seed: mix(this.#seed, 0xc4a5, this.#callNo) })];
    const durable = this.#fs.durableImage();
    const snap = this.#m.snapshot();
    this.#unsubscribe();
    this.#unsubscribe = () => undefined;
    const old = this.#w;
    await old.close().catch(() => undefined); // on the old file system: nothing of it reaches the images
    this.#result.bump("imagesCaptured", images.length);
    const chosen = Math.floor(this.#next() * images.length);
    let cont: { wal: Wal<JsonValue>; maxLsn: number; fs: SimFS } | undefined;
    for (let i = 0; i < images.length; i++) {
      const image = images[i] as CrashImage;
      const processCrash = image.description.startsWith("[keep all]");
      const key = `${imageKey(image.fs)}#${snap.fence}/${snap.durableLsn}/${processCrash ? snap.writtenLsn : -1}`;
      if (i !== chosen && this.#seen.has(key)) continue;
      this.#seen.add(key);
      const what = `crash after ${this.#recent.at(-2) ?? "open"}, image "${image.description}"`;
      const kept = await this.#checkImage(image.fs, snap, processCrash, what, i === chosen);
      if (kept !== undefined) cont = { ...kept, fs: image.fs };
    }
    if (cont === undefined) {
      this.#fs = durable;
      const kept = await this.#checkImage(durable, snap, false, "crash, the durable image", true);
      if (kept === undefined) this.#fail("unopenable", "the durable crash image was refused as damaged");
      cont = { ...kept, fs: durable };
    }
    this.#watch(cont.fs);
    this.#wal = cont.wal;
    this.#m.handleGone(cont.maxLsn);
    this.#m.opened(cont.wal.nextLsn(), await oldestFenceOf(cont.fs));
  }

  /** close() completes what was issued before it; what is issued after it rejects WAL_CLOSED. */
  async #closeRace(): Promise<void> {
    const m = this.#m;
    const w = this.#w;
    const n = between(this.#next, 2, 5);
    const txs = Array.from({ length: n }, () => {
      const id = m.newId();
      return { id, events: this.#events(id, 1) };
    });
    await this.#checkCaptures();
    this.#deferCaptures = true;
    this.#note(`${n} × commitTx, then close() without waiting`);
    const pending = txs.map((t) => w.commitTx(t.events));
    const closing = w.close();
    const open = m.openTxs()[0];
    const late: [string, () => Promise<unknown>][] = [
      ["begin() after close()", () => w.begin()],
      ["sync() after close()", () => w.sync()],
      ["checkpointMarker(floor) after close()", () => w.checkpointMarker(m.floor)],
      ["truncateUpTo(0) after close()", () => w.truncateUpTo(0)],
      ["whenDurable(0) after close()", () => w.whenDurable(0)],
      ["flush() after close()", () => w.flush()],
    ];
    if (open !== undefined) late.push([`append(${open.begin}) after close()`, () => w.append(open.begin, "late")]);
    if (this.#opts.commitAfterClose !== false) late.push(["commitTx after close()", () => w.commitTx(["late"])]);
    for (const [label, fn] of late) await this.#call(label, ["WAL_CLOSED"], fn, { skipNext: true });
    const settled = await Promise.allSettled(pending);
    try {
      await closing;
    } catch (e) {
      this.#fail("refused-valid", `close() with commits in flight failed: ${text(e)}`);
    }
    const infos: { id: string; events: string[]; begin: number }[] = [];
    settled.forEach((s, i) => {
      const t = txs[i] as (typeof txs)[number];
      if (s.status === "rejected")
        this.#fail("refused-valid", `commitTx(${t.id}) issued before close() was rejected: ${text(s.reason)}`);
      if (s.value === null) this.#fail("error", `commitTx(${t.id}) resolved null`);
      infos.push({ ...t, begin: s.value.beginLsn });
    });
    infos.sort((a, b) => a.begin - b.begin);
    for (const t of infos) {
      this.#expectLsn(`commitTx(${t.id}) before close()`, t.begin, m.nextLsn);
      m.commitTx(t.id, t.begin, t.events);
    }
    m.handleGone(m.maxRecordLsn);
    this.#deferCaptures = false;
    await this.#openAtFence();
  }

  // ---- misuse ------------------------------------------------------------------------------------------------

  /** append/appendBatch/commit/abort naming a transaction that is (usually) not open: WAL_TX_NOT_OPEN. */
  async #misuseTx(): Promise<void> {
    const m = this.#m;
    const finished = [...m.txs.values()].filter((t) => !t.viaCommitTx && t.state !== "open");
    const viaCommitTx = [...m.txs.values()].filter((t) => t.viaCommitTx);
    const kinds: [string, () => unknown][] = [
      [
        "never begun",
        () => this.#pick([0, m.nextLsn, m.nextLsn + 1, between(this.#next, 1, m.nextLsn + 5), Number.MAX_SAFE_INTEGER]),
      ],
      ["garbage", () => this.#pick([Number.NaN, -1, 1.5, Number.POSITIVE_INFINITY, -0, "1", null, undefined, 2 ** 53])],
    ];
    if (finished.length > 0) kinds.push(["finished", () => this.#pick(finished).begin]);
    if (viaCommitTx.length > 0) kinds.push(["a commitTx's begin", () => this.#pick(viaCommitTx).begin]);
    if (m.staleIds.length > 0) kinds.push(["begun before a reopen", () => this.#pick(m.staleIds)]);
    const [kind, idOf] = this.#pick(kinds);
    const id = idOf() as number;
    await this.#txCall(kind, id, this.#pick(["append", "appendBatch", "commit", "abort"] as const));
  }

  /**
   * The ids a handle could mistake for "no transaction open" (-1, NaN: each once stood for it in some handle), named
   * by every transaction call while none is open, once per sequence right after the first open: a random pick meets
   * that state rarely enough that a run could miss it (the planted bug tx-none-is-minus-one went uncaught on a seed).
   */
  async #sentinelTxIds(): Promise<void> {
    for (const id of [-1, Number.NaN]) {
      for (const op of ["append", "appendBatch", "commit", "abort"] as const) await this.#txCall("sentinel", id, op);
    }
  }

  /** `op` naming transaction `id`: accepted if the model has it open, else refused with WAL_TX_NOT_OPEN. */
  async #txCall(kind: string, id: number, op: "append" | "appendBatch" | "commit" | "abort"): Promise<void> {
    const m = this.#m;
    const label = `${op}(${show(id)}) [${kind}]`;
    const valid = m.isOpen(id);
    const event = `${m.newId()}.0`;
    const r = await this.#call(
      label,
      valid ? "accept" : ["WAL_TX_NOT_OPEN"],
      () => {
        switch (op) {
          case "append":
            return this.#w.append(id, event);
          case "appendBatch":
            return this.#w.appendBatch(id, [event]);
          case "commit":
            return this.#w.commit(id);
          case "abort":
            return this.#w.abort(id);
        }
      },
      { bytes: this.#chance(0.5) },
    );
    if (!r.ok || !valid) return;
    // An id from before a crash that the new handle reused for a transaction of its own: valid.
    this.#expectLsn(label, r.value, m.nextLsn);
    if (op === "append" || op === "appendBatch") m.append(id, r.value, [event]);
    else m.finish(id, r.value, op === "commit" ? "committed" : "aborted");
    this.#checkNext(label);
  }

  /**
   * checkpointMarker / checkpoint / truncateUpTo at `s`, accepted or refused as the model says. A refusal names a
   * usable fence the model accepts. An accepted snapshot becomes the store's (taken before the call).
   */
  async #fenceCall(target: FenceTarget, s: number, bytes: boolean): Promise<void> {
    const m = this.#m;
    const verdict: FenceVerdict = target === "truncateUpTo" ? m.truncateVerdict(s) : m.markerVerdict(s);
    const label = `${target}(${s})${verdict === "ok" ? "" : ` [${verdict}]`}`;
    if (verdict === "truncated") this.#result.bump("belowRetainedLog");
    const markerLsn = m.nextLsn;
    const upTo = this.#w.nextLsn() - 1;
    if (verdict === "ok") m.snapshotAt(s);
    const r = await this.#call(
      label,
      verdict === "ok" ? "accept" : ["WAL_BAD_CHECKPOINT"],
      async (): Promise<number | undefined> => {
        if (target === "checkpointMarker") return await this.#w.checkpointMarker(s);
        if (target === "checkpoint") return (await this.#w.checkpoint(s)).markerLsn;
        await this.#w.truncateUpTo(s);
        return undefined;
      },
      { bytes },
    );
    if (!r.ok) {
      const usable = r.error.details.usableFence;
      if (usable === undefined || m.markerVerdict(usable) !== "ok") {
        this.#soft(
          "usable-fence",
          `usable:${target}`,
          `${label} was refused naming usableFence ${String(usable)}, which the model refuses (${usable === undefined ? "none" : m.markerVerdict(usable)})`,
        );
      }
      return;
    }
    // What the accepted call deleted (checkpoint truncates too): no marker below the new oldest fence is accepted.
    if (target !== "checkpointMarker") m.oldestFence = await oldestFenceOf(this.#fs);
    if (target === "truncateUpTo") {
      m.durable(upTo);
      this.#checkNext(label);
      return;
    }
    this.#expectLsn(label, r.value as number, markerLsn);
    m.marker(markerLsn, s);
    if (target === "checkpoint") m.durable(markerLsn);
    this.#checkNext(label);
  }

  async #misuseFence(): Promise<void> {
    const m = this.#m;
    const w = this.#w;
    const candidates = [
      between(this.#next, 0, m.nextLsn + 2),
      between(this.#next, 0, m.nextLsn + 2),
      w.durableLsn(), // the old recipe: inside any open transaction
      m.nextLsn - 1,
      m.nextLsn,
      m.nextLsn + 1,
      Math.max(0, m.floor - 1),
      m.floor,
    ];
    for (const tx of m.openTxs()) candidates.push(tx.begin, tx.begin + 1);
    const s = this.#pick(candidates);
    const target = this.#pick(["checkpointMarker", "truncateUpTo", "checkpoint"] as const);
    await this.#fenceCall(target, s, this.#chance(0.5));
  }

  /** LSN arguments that are not LSNs, an LSN not yet allocated, commitTx of a non-array: WAL_INVALID_ARGUMENT. */
  async #badArguments(): Promise<void> {
    const m = this.#m;
    const w = this.#w;
    const bad = this.#pick([
      Number.NaN,
      -1,
      1.5,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      2 ** 53,
      1e300,
      "3",
      null,
      undefined,
    ]) as number;
    const choices: [string, () => Promise<unknown>][] = [
      [`checkpointMarker(${show(bad)})`, () => w.checkpointMarker(bad)],
      [`truncateUpTo(${show(bad)})`, () => w.truncateUpTo(bad)],
      [`checkpoint(${show(bad)})`, () => w.checkpoint(bad)],
      [`whenDurable(${show(bad)})`, () => w.whenDurable(bad)],
      [`whenDurable(nextLsn + k)`, () => w.whenDurable(m.nextLsn + between(this.#next, 0, 3))],
      [
        `commitTx(non-array)`,
        () => w.commitTx(this.#pick(["a", null, 7, { 0: "a", length: 1 }]) as unknown as string[]),
      ],
    ];
    const [label, fn] = this.#pick(choices);
    await this.#call(label, ["WAL_INVALID_ARGUMENT"], fn, { bytes: this.#chance(0.5) });
  }

  /** A custom codec writing an out-of-range integer: WAL_ENCODE, nothing written; an empty batch too. */
  async #badCodec(): Promise<void> {
    const m = this.#m;
    const w = this.#w;
    const k = between(this.#next, 0, BAD_INTS.length - 1);
    const badEvent = `${BAD_EVENT}${k}`;
    const name = (BAD_INTS[k] as (typeof BAD_INTS)[number])[0];
    const good = `${m.newId()}.0`;
    const choices: [string, Expect, () => Promise<unknown>][] = [
      [`commitTx([good, ${name}])`, ["WAL_ENCODE"], () => w.commitTx([good, badEvent])],
      [`commitTx([${name}])`, ["WAL_ENCODE"], () => w.commitTx([badEvent])],
    ];
    const open = m.openTxs();
    if (open.length > 0) {
      const b = this.#pick(open).begin;
      choices.push(
        [`append(${b}, ${name})`, ["WAL_ENCODE"], () => w.append(b, badEvent)],
        [`appendBatch(${b}, [good, ${name}])`, ["WAL_ENCODE"], () => w.appendBatch(b, [good, badEvent])],
        [`appendBatch(${b}, [])`, ["WAL_ENCODE"], () => w.appendBatch(b, [])],
      );
    }
    const [label, expect, fn] = this.#pick(choices);
    await this.#call(label, expect, fn, { bytes: this.#chance(0.5) });
    if (this.#chance(0.3)) {
      // An empty commitTx is valid and writes nothing.
      const r = this.#expectAccepted(await this.#call("commitTx([])", "accept", () => w.commitTx([])));
      if (r !== null) this.#fail("lsn", `commitTx([]) resolved ${JSON.stringify(r)}, expected null`);
      this.#checkNext("commitTx([])");
    }
  }

  /** The LSNs a sweep covers: every one up to nextLsn + 2, or for long logs those around each record plus a sample. */
  #sweepLsns(top: number): number[] {
    if (top < EXHAUSTIVE_SWEEP) return Array.from({ length: top + 1 }, (_, i) => i);
    const m = this.#m;
    const set = new Set<number>([0, m.floor - 1, m.floor, m.floor + 1, m.fence, top - 3, top - 2, top - 1, top]);
    for (const tx of m.txs.values())
      for (const l of [tx.begin - 1, tx.begin, tx.begin + 1, tx.last - 1, tx.last, tx.last + 1]) set.add(l);
    for (const mk of m.markers) set.add(mk.lsn).add(mk.snapshot);
    for (let i = 0; i < 40; i++) set.add(between(this.#next, 0, top));
    return [...set].filter((l) => l >= 0 && l <= top).sort((a, b) => a - b);
  }

  #order(lsns: number[]): number[] {
    const how = this.#pick(["asc", "desc", "shuffle"] as const);
    if (how === "desc") return lsns.reverse();
    if (how === "shuffle") return shuffle(this.#next, lsns);
    return lsns;
  }

  /** Every LSN from 0 to nextLsn + 2 through one of the fence calls; every refusal leaves the bytes identical. */
  async #fenceSweep(target: FenceTarget): Promise<void> {
    this.#result.bump("sweeps");
    for (const s of this.#order(this.#sweepLsns(this.#m.nextLsn + 2))) await this.#fenceCall(target, s, true);
  }

  /**
   * The log is closed: open it at every fence from 0 to nextLsn + 2 (then close). Each open must succeed with
   * exactly the committed transactions above the fence, or fail as the model says (WAL_FENCE_TOO_LOW below the
   * oldest segment, WAL_FENCE_IN_TRANSACTION inside a transaction) naming the usable fence the model names, which
   * then opens. Below the oldest segment, `allowTruncatedHistory` opens with what the log still holds. No open
   * changes the directory. The main log is untouched by these probes, so a wrong verdict is reported and the
   * sequence goes on (a wrong history or a changed directory ends it).
   */
  async #reopenSweep(): Promise<void> {
    this.#result.bump("sweeps");
    await this.#checkCaptures();
    const m = this.#m;
    this.#capturing = false;
    try {
      const oldest = await oldestFenceOf(this.#fs);
      const top = Math.max(m.nextLsn, m.maxRecordLsn + 1) + 2;
      for (const f of this.#order(this.#sweepLsns(top))) {
        const verdict = m.openVerdict(f, oldest);
        const code = verdict.kind === "tooLow" ? "WAL_FENCE_TOO_LOW" : "WAL_FENCE_IN_TRANSACTION";
        const where = `(the oldest segment starts after ${oldest})`;
        const r = await this.#probeOpen(f, {});
        if (r.ok) {
          if (verdict.kind !== "ok") {
            this.#soft(
              "accepted-misuse",
              `open-accepted:${code}`,
              `open at fence ${f} succeeded; expected ${code} ${where}`,
            );
          }
          continue;
        }
        const e = r.error;
        if (verdict.kind === "ok") {
          this.#soft(
            "refused-valid",
            `open-refused:${e.code}`,
            `open at fence ${f} failed (${text(e)}); the model says it opens ${where}`,
          );
          continue;
        }
        if (e.code !== code) {
          this.#soft(
            "wrong-code",
            `open-code:${code}:${e.code}`,
            `open at fence ${f} failed with ${text(e)}; expected ${code} ${where}`,
          );
        }
        const usable = e.details.usableFence;
        if (usable !== verdict.usable) {
          this.#soft(
            "usable-fence",
            `open-usable:${code}`,
            `open at fence ${f} failed ${e.code} naming usableFence ${String(usable)}; the model's is ${String(verdict.usable)} ${where}`,
          );
        }
        if (usable !== undefined) {
          const again = await this.#probeOpen(usable, {});
          if (!again.ok) {
            this.#soft(
              "unopenable",
              `open-usable-fails:${code}`,
              `the usableFence ${usable} named by ${e.code} at fence ${f} does not open: ${text(again.error)} ${where}`,
            );
          }
        }
        if (verdict.kind === "tooLow") await this.#probeTruncated(f, oldest);
      }
    } finally {
      this.#capturing = true;
    }
  }

  /**
   * `allowTruncatedHistory` at a fence `f` below the oldest segment: the log opens with what it still holds, the
   * committed transactions begun after the oldest fence. A transaction begun before the retained log (in a deleted
   * segment) cannot be replayed whole and is skipped, also when `f` is at or above its begin: the caller opted in to
   * the gap, and with a fence below the log no fence would open otherwise.
   */
  async #probeTruncated(f: number, oldest: number): Promise<void> {
    const r = await this.#probeOpen(f, { allowTruncatedHistory: true, oldest });
    if (!r.ok) {
      this.#soft(
        "unopenable",
        `truncated-refused:${r.error.code}`,
        `open at fence ${f} with allowTruncatedHistory (the oldest segment starts after ${oldest}) failed: ${text(r.error)}`,
      );
    }
  }

  /**
   * One open of the closed log at `fence`, closed at once: when it opens, exactly the committed transactions above
   * the fence (above the oldest fence with allowTruncatedHistory); either way the directory is unchanged.
   */
  async #probeOpen(fence: number, o: { allowTruncatedHistory?: boolean; oldest?: number }): Promise<Outcome<null>> {
    const opt = o.allowTruncatedHistory === true;
    const label = `open(fence ${fence}${opt ? ", allowTruncatedHistory" : ""})`;
    this.#note(label);
    this.#result.bump("reopenProbes");
    const before = dirBytes(this.#fs);
    const txs: RecoveredTx[] = [];
    let out: Outcome<null>;
    try {
      const r = await Wal.open<JsonValue>(WAL_DIR, { ...this.#options(fence, txs), allowTruncatedHistory: opt });
      await r.wal.close();
      const from = opt ? Math.max(fence, o.oldest ?? 0) : fence;
      this.#compare(txs, this.#m.cleanExpectation(from), Number.MAX_SAFE_INTEGER, label);
      out = { ok: true, value: null };
    } catch (e) {
      if (e instanceof Stop) throw e;
      if (!isWalError(e)) this.#fail("error", `${label} threw something that is not a WalError: ${text(e)}`);
      this.#refused(e.code);
      out = { ok: false, error: e };
    }
    const diff = dirDiff(before, dirBytes(this.#fs));
    if (diff !== null) this.#fail("refusal-wrote", `${label} on a cleanly closed log changed the directory: ${diff}`);
    return out;
  }

  /**
   * The log is closed: open a copy of it with loraCodec (it was written with a JSON codec) in every recovery mode.
   * Each must be refused with WAL_CODEC_MISMATCH when a committed transaction above the fence carries events (with
   * nothing to decode it may open), must leave the directory byte-identical (the lock file aside), and the right
   * codec must then recover exactly what it did before. On a copy, so the sequence goes on with the log as it was.
   */
  async #wrongCodec(): Promise<void> {
    await this.#checkCaptures();
    const m = this.#m;
    for (const recovery of RECOVERY_MODES) {
      const label = `open with loraCodec (${recovery})`;
      this.#note(label);
      this.#result.bump("wrongCodecOpens");
      const copy = this.#fs.clone();
      const before = dirBytes(copy);
      /** What went wrong, most severe first: one violation per mode names them all. */
      const problems: [ViolationKind, string][] = [];
      let outcome: string;
      try {
        const r = await Wal.open(
          WAL_DIR,
          withTestingHooks(
            { fs: copy, checkpointLsn: m.fence, recovery, segmentTargetBytes: this.#cfg.segmentTargetBytes },
            { plantedBugs: this.#bugs },
          ),
        );
        await r.wal.close();
        outcome = "opened";
        if (m.hasPayloadAbove(m.fence)) {
          problems.push(["accepted-misuse", `it opened a log of JSON events above the fence ${m.fence}`]);
        }
      } catch (e) {
        this.#refused(isWalError(e) ? e.code : "other");
        outcome = `was refused (${isWalError(e) ? e.code : String(e)})`;
        if (!isWalError(e, "WAL_CODEC_MISMATCH")) {
          problems.push(["wrong-code", `it failed with ${text(e)}; expected WAL_CODEC_MISMATCH`]);
        }
      }
      const diff = dirDiff(before, dirBytes(copy));
      if (diff !== null) problems.unshift(["refusal-wrote", `it changed the directory: ${diff}`]);
      const txs: RecoveredTx[] = [];
      try {
        const r = await Wal.open<JsonValue>(WAL_DIR, { ...this.#options(m.fence, txs), fs: copy });
        await r.wal.close();
        const first = checkHistory(txs, m.cleanExpectation(m.fence)).findings[0];
        if (first !== undefined) problems.push([first.kind, `then the right codec recovers: ${first.message}`]);
      } catch (e) {
        problems.push(["unopenable", `then the right codec cannot open the log: ${text(e)}`]);
      }
      const worst = problems[0];
      if (worst !== undefined) {
        this.#soft(worst[0], `codec:${recovery}`, `${label} ${outcome}: ${problems.map((p) => p[1]).join("; ")}`);
      }
    }
  }

  // ---- the sequence ------------------------------------------------------------------------------------------

  async #step(): Promise<void> {
    const open = this.#m.openTxs().length;
    const ops: [number, () => Promise<void>][] = [
      [14, () => this.#commitTx()],
      [open < 3 ? 8 : 0, () => this.#begin()],
      [open > 0 ? 12 : 0, () => this.#append()],
      [open > 0 ? 5 : 0, () => this.#finish("commit")],
      [open > 0 ? 3 : 0, () => this.#finish("abort")],
      [4, () => this.#sync()],
      [2, () => this.#flush()],
      [1, () => this.#whenDurable()],
      [4, () => this.#checkpointSafe()],
      [2, () => this.#truncateValid()],
      [3, () => this.#reopen()],
      [3, () => this.#crash()],
      [1, () => this.#closeRace()],
      [12, () => this.#misuseTx()],
      [8, () => this.#misuseFence()],
      [3, () => this.#badArguments()],
      [3, () => this.#badCodec()],
      [2, () => this.#fenceSweep(this.#pick(["checkpointMarker", "truncateUpTo", "checkpoint"] as const))],
    ];
    const total = ops.reduce((n, [w]) => n + w, 0);
    let roll = this.#next() * total;
    for (const [weight, op] of ops) {
      roll -= weight;
      if (roll < 0) return await op();
    }
  }

  /**
   * Finish the open transactions, commit and sync a few (small segments rotate), truncate at the safe fence, then
   * mark a snapshot at a boundary below what the log still holds: refused as below the retained log. Run in every
   * finale, so each case with segments to drop meets that rule at least once where no other rule refuses the
   * marker (at or above the floor, outside every transaction, when the truncation left the floor behind). A random
   * sequence meets it only when a truncation happens to precede such a fence.
   */
  async #belowRetainedProbe(): Promise<void> {
    // An open transaction holds the safe fence below its begin, and so truncation: finish them (at most 3 are open).
    for (let i = 0; i < 8 && this.#m.openTxs().length > 0; i++) await this.#finish("commit");
    for (let i = 0; i < 12; i++) await this.#commitTx();
    await this.#sync();
    await this.#fenceCall("truncateUpTo", this.#w.safeCheckpointLsn(), false);
    // The highest boundary below the retained log and at or above the floor: only the retained-log rule refuses a
    // marker there (base - 2 is usually inside the commitTx that ends the dropped segment, and refused as inside).
    let below = this.#m.oldestFence - 1;
    while (below >= this.#m.floor && this.#m.insideForHandle(below)) below--;
    if (below >= 0) await this.#fenceCall("checkpointMarker", below, false);
  }

  /**
   * The probe below the retained log, one exhaustive fence sweep, a clean close, the wrong codec, opens at every
   * fence, and the final reopen.
   */
  async #finale(): Promise<void> {
    await this.#belowRetainedProbe();
    await this.#fenceSweep(this.#pick(["checkpointMarker", "truncateUpTo", "checkpoint"] as const));
    await this.#close();
    if (this.#opts.wrongCodec !== false) await this.#wrongCodec();
    await this.#reopenSweep();
    await this.#openAtFence();
    await this.#close();
  }
}
