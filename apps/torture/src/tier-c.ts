/**
 * Tier C: on-disk damage (docs/crash-testing.md). A fixture written by the real `Wal` (several sealed segments
 * and an active one), then: every single-bit flip of every sealed segment and of the active segment before its
 * last record, every zeroed 512-byte sector, truncation at every offset of the last record, stale copies (an
 * older segment copied over a newer one, an old version of a sealed segment restored, a middle segment deleted).
 * Damage must be reported: open rejects loudly, or recovery reports the torn tail it cut. Opening with fewer
 * transactions and no report is a silent truncation; dropping a transaction that was intact is a loss.
 *
 * The fixture's active segment is smaller than the writer's unsynced window (1 MiB), so every byte of it may be an
 * unsynced write after a power loss: damage there is what a torn write can leave (later sectors landed, earlier
 * ones not), and the damage rules cut it as a torn tail, loudly, keeping every transaction before the damaged
 * record. Damage in sealed segments (fsynced before they were sealed) must be refused.
 */

import { isWalError, type JsonValue, jsonCodec, Wal } from "@lora/wal";
import { type PlantedBug, withTestingHooks } from "@lora/wal/testing";
import { SimFS } from "@lora/wal-segment/testing";
import type { RecoveredTx } from "./oracle.js";
import { mix, rng, shuffle } from "./prng.js";
import { type Budget, budgetLeft, TierResult, type ViolationKind } from "./result.js";

const DIR = "/c";
const SECTOR = 512;
/** A commit record: length u32, kind u8, lsn u64, txBeginLsn u64, no payload, crc32. */
const COMMIT_RECORD_BYTES = 25;

interface Fixture {
  readonly files: ReadonlyMap<string, Uint8Array>;
  readonly names: readonly string[];
  readonly active: string;
  readonly history: readonly RecoveredTx[];
  /** For each transaction whose commit is in the active segment: the offset just past its commit record. */
  readonly activeCommitEnds: readonly { readonly tx: number; readonly end: number }[];
  /** Earlier (shorter, unsealed) versions of each sealed segment. */
  readonly oldVersions: ReadonlyMap<string, readonly Uint8Array[]>;
}

async function buildFixture(): Promise<Fixture> {
  const fs = new SimFS();
  const { wal } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec, segmentTargetBytes: 420 });
  const history: RecoveredTx[] = [];
  const versions = new Map<string, Uint8Array[]>();
  const commitEnds: { tx: number; end: number; segment: number }[] = [];
  for (let i = 0; i < 14; i++) {
    const events = i % 3 === 2 ? [`c${i}.0`, `c${i}.1:${"v".repeat(90)}`] : [`c${i}.0`];
    const info = await wal.commitTx(events);
    if (info === null) throw new Error("null commit");
    history.push({ beginLsn: info.beginLsn, commitLsn: info.commitLsn, events });
    const name = segmentName(wal.activeSegmentId());
    const bytes = fs.readFileSync(`${DIR}/${name}`);
    versions.set(name, [...(versions.get(name) ?? []), bytes]);
    commitEnds.push({ tx: i, end: bytes.byteLength, segment: wal.activeSegmentId() });
  }
  const activeId = wal.activeSegmentId();
  await wal.close();
  const names = fs.listSync(DIR).filter((n) => n.endsWith(".wal"));
  const files = new Map(names.map((n) => [n, fs.readFileSync(`${DIR}/${n}`)]));
  const oldVersions = new Map<string, Uint8Array[]>();
  for (const [name, list] of versions) if (name !== segmentName(activeId)) oldVersions.set(name, list.slice(0, -1));
  return {
    files,
    names,
    active: segmentName(activeId),
    history,
    activeCommitEnds: commitEnds.filter((c) => c.segment === activeId),
    oldVersions,
  };
}

function segmentName(id: number): string {
  return `${String(id).padStart(10, "0")}.wal`;
}

type Outcome =
  | { readonly kind: "rejected"; readonly code: string }
  | { readonly kind: "opened"; readonly txs: RecoveredTx[]; readonly reported: boolean };

async function openDamaged(
  f: Fixture,
  replace: ReadonlyMap<string, Uint8Array | null>,
  bugs: readonly PlantedBug[],
): Promise<Outcome> {
  const fs = new SimFS();
  fs.mkdirpSync(DIR);
  for (const name of f.names) {
    const bytes = replace.has(name) ? replace.get(name) : f.files.get(name);
    if (bytes !== null && bytes !== undefined) fs.writeFileSync(`${DIR}/${name}`, bytes);
  }
  const txs: RecoveredTx[] = [];
  try {
    const r = await Wal.open<JsonValue>(
      DIR,
      withTestingHooks({ fs, codec: jsonCodec, onTransaction: (t) => void txs.push(t) }, { plantedBugs: bugs }),
    );
    await r.wal.close();
    const reported = r.tornTail !== null || r.healed.length > 0 || r.replay?.corruption != null;
    return { kind: "opened", txs, reported };
  } catch (e) {
    if (isWalError(e)) return { kind: "rejected", code: e.code };
    throw e;
  }
}

function sameTxs(a: readonly RecoveredTx[], b: readonly RecoveredTx[]): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export interface TierCOptions {
  readonly seed: number;
  readonly budget: Budget;
  readonly bugs?: readonly PlantedBug[];
  readonly stopOnFirst?: boolean;
  /** Run only this damage case (index into the seeded case list). */
  readonly cases?: readonly number[];
}

interface DamageCase {
  readonly kind: "bitflip" | "sector" | "zeroed-newest" | "truncate" | "stale" | "deleted";
  readonly label: string;
  readonly replace: ReadonlyMap<string, Uint8Array | null>;
  /** How many leading transactions must survive when the damage is reported as a torn tail (else: must reject). */
  readonly tailKeeps: number | null;
}

function damageCases(f: Fixture, seed: number): DamageCase[] {
  const keepsBefore = (offset: number) => {
    // Transactions whose commit ends at or before `offset` in the active segment, plus all in sealed segments.
    const firstActive = f.activeCommitEnds[0]?.tx ?? f.history.length;
    return firstActive + f.activeCommitEnds.filter((c) => c.end <= offset).length;
  };
  const activeBytes = f.files.get(f.active) as Uint8Array;
  const lastStart = activeBytes.byteLength - COMMIT_RECORD_BYTES;
  const sector: DamageCase[] = [];
  const flips: DamageCase[] = [];
  for (const name of f.names) {
    const bytes = f.files.get(name) as Uint8Array;
    const limit = name === f.active ? lastStart : bytes.byteLength;
    for (let bit = 0; bit < limit * 8; bit++) {
      const copy = bytes.slice();
      copy[bit >> 3] = (copy[bit >> 3] as number) ^ (1 << (bit & 7));
      // In the active segment's records (all within the unsynced window) a flip reads as a torn write; a header
      // flip is refused (WAL_BAD_HEADER).
      const inWindow = name === f.active && bit >> 3 >= 32;
      flips.push({
        kind: "bitflip",
        label: `bit ${bit} of ${name}`,
        replace: new Map([[name, copy]]),
        tailKeeps: inWindow ? keepsBefore(bit >> 3) : null,
      });
    }
    for (let s = 0; s * SECTOR < bytes.byteLength; s++) {
      const copy = bytes.slice();
      copy.fill(0, s * SECTOR, Math.min(bytes.byteLength, (s + 1) * SECTOR));
      // A zeroed sector of the active segment's records is what a torn write leaves (the unsynced window).
      const tail = name === f.active && s * SECTOR >= 32;
      // A newest segment that is all zeros, at any length, is taken for one whose header never landed (the
      // headerless rule of wal-replay's damage rules): open removes it and reports it, so what the sealed segments
      // hold must survive. Counted as wholeNewestSegmentZeroed.
      const whole = name === f.active && bytes.byteLength <= SECTOR;
      sector.push({
        kind: whole ? "zeroed-newest" : "sector",
        label: `sector ${s} of ${name} zeroed${whole ? " (the whole newest segment)" : ""}`,
        replace: new Map([[name, copy]]),
        tailKeeps: tail ? keepsBefore(s * SECTOR) : whole ? keepsBefore(0) : null,
      });
    }
  }
  const truncs: DamageCase[] = [];
  for (let at = lastStart + 1; at < activeBytes.byteLength; at++) {
    truncs.push({
      kind: "truncate",
      label: `${f.active} cut at ${at} (last record ${lastStart}..${activeBytes.byteLength})`,
      replace: new Map([[f.active, activeBytes.slice(0, at)]]),
      tailKeeps: f.history.length - 1,
    });
  }
  const stale: DamageCase[] = [];
  for (let i = 0; i + 1 < f.names.length; i++) {
    const from = f.names[i] as string;
    const to = f.names[i + 1] as string;
    stale.push({
      kind: "stale",
      label: `${from} copied over ${to}`,
      replace: new Map([[to, (f.files.get(from) as Uint8Array).slice()]]),
      tailKeeps: null,
    });
    if (i > 0)
      stale.push({
        kind: "deleted",
        label: `${from} deleted from the middle`,
        replace: new Map([[from, null]]),
        tailKeeps: null,
      });
  }
  for (const [name, versions] of f.oldVersions) {
    versions.forEach((old, v) => {
      stale.push({
        kind: "stale",
        label: `old version ${v + 1} of sealed ${name} restored (${old.byteLength} bytes)`,
        replace: new Map([[name, old]]),
        tailKeeps: null,
      });
    });
  }
  // Structured damage first, then every bit flip in a seeded order (so a short budget samples them evenly).
  return [...truncs, ...stale, ...sector, ...shuffle(rng(mix(seed, 0xc)), flips)];
}

export function tierCReplay(seed: number, index: number): string {
  return `pnpm torture -- --tier C --seed ${seed} --case ${index}`;
}

export async function runTierC(opts: TierCOptions): Promise<TierResult> {
  const result = new TierResult("C");
  const start = Date.now();
  const f = await buildFixture();
  const cases = damageCases(f, opts.seed);
  result.extra.damageCasesTotal = cases.length;
  result.extra.bitflipsTotal = cases.filter((c) => c.kind === "bitflip").length;
  result.extra.segments = f.names.length;
  const bugs = opts.bugs ?? [];
  const indices = opts.cases ?? cases.map((_, i) => i);
  for (const i of indices) {
    if (!budgetLeft(opts.budget, result.cases)) break;
    const c = cases[i];
    if (c === undefined) continue;
    result.cases++;
    const add = (kind: ViolationKind, message: string) =>
      result.add({
        tier: "C",
        kind,
        caseId: `${i}`,
        message: `${c.label}: ${message}`,
        replay: tierCReplay(opts.seed, i),
      });
    const o = await openDamaged(f, c.replace, bugs);
    if (c.kind === "deleted") {
      // Segment ids are consecutive except where truncation removed the oldest ones, so a missing middle segment
      // must be refused (WAL_CORRUPT), never opened as a shorter history.
      result.bump(o.kind === "rejected" ? "middleDeletionsDetected" : "middleDeletionsUndetected");
      if (o.kind !== "rejected") add("silent-truncation", "a segment deleted from the middle was not detected");
      result.corruptionTotal++;
      if (o.kind === "rejected") result.corruptionDetected++;
      continue;
    }
    let detected: boolean;
    if (o.kind === "rejected") {
      detected = true;
      if (c.kind === "truncate") add("unopenable", `a torn last record made the log unopenable (${o.code})`);
      // Within the unsynced window the damage is what a torn write can leave: the default open must cut it.
      else if (c.tailKeeps !== null)
        add("unopenable", `damage within the unsynced window made the log unopenable (${o.code})`);
    } else if (sameTxs(o.txs, f.history)) {
      detected = o.reported; // e.g. a flip in bytes nothing reads: harmless, but not reported
      if (c.kind === "truncate") detected = true;
    } else {
      const prefix = o.txs.every((t, k) => sameTxs([t], [f.history[k] as RecoveredTx]));
      detected = o.reported;
      if (!prefix)
        add("phantom", `opened with a history that is not a prefix of the written one (${o.txs.length} transactions)`);
      else if (!o.reported)
        add(
          "silent-truncation",
          `opened with ${o.txs.length} of ${f.history.length} transactions and reported nothing`,
        );
      else if (c.tailKeeps === null)
        add("lost", `cut ${f.history.length - o.txs.length} intact transaction(s) as a torn tail instead of refusing`);
      else if (o.txs.length < c.tailKeeps)
        add("lost", `kept ${o.txs.length} transactions, ${c.tailKeeps} were before the damage`);
    }
    if (c.kind === "zeroed-newest") result.bump("wholeNewestSegmentZeroed");
    result.crashStates++;
    result.ackedChecked += c.tailKeeps ?? f.history.length;
    result.corruptionTotal++;
    if (detected) result.corruptionDetected++;
    if (c.kind === "bitflip") {
      result.bump("bitflipsTried");
      if (detected) result.bump("bitflipsDetected");
    }
    result.bump(`${c.kind}Cases`);
    if (opts.stopOnFirst === true && result.violations.length > 0) break;
  }
  result.ms = Date.now() - start;
  return result;
}

export function bitflipDetectedPct(r: TierResult): number {
  // Of the whole planned set, not of what was tried: a run cut short cannot print a full score.
  const planned = Math.max(r.extra.bitflipsTotal ?? 0, r.extra.bitflipsTried ?? 0);
  return planned === 0 ? 0 : (100 * (r.extra.bitflipsDetected ?? 0)) / planned;
}
