/**
 * Helpers of the end-to-end archive tests: a writer child whose stdout lines are parsed as they arrive, the
 * history of a log directory as `Wal.open` replays it, a store that records what is put into it, and the record
 * spans of a segment file (to find an LSN inside a given piece).
 */

import { type ChildProcess, spawn } from "node:child_process";
import { type JsonValue, jsonCodec, loraCodec, type MutationEvent, type PayloadCodec, Wal } from "@lora/wal";
import { createPropertyMap } from "@lora/wal-codec/lora";
import { createNodeFileSystem, SegmentReader } from "@lora/wal-segment";
import { openWalDatabase } from "@loradb/lora-node";
import type { ArchiveStore } from "../../src/archive-store.js";
import type { WriterConfig } from "../fixtures/archive-writer.js";

export type CodecName = WriterConfig["codec"];
export type Event = JsonValue | MutationEvent;

export function codecOf(name: CodecName): PayloadCodec<Event> {
  return (name === "json" ? jsonCodec : loraCodec) as PayloadCodec<Event>;
}

/** One transaction of the writer: `i` is its sequence number (the json event's `i`, the lora node's id). */
export interface Tx {
  readonly i: number;
  readonly beginLsn: number;
  readonly commitLsn: number;
}

/** What a writer child printed, parsed. */
export interface WriterLog {
  /** `acks[k].i === k`: the writer commits in sequence. */
  readonly acks: { readonly i: number; readonly lsn: number; readonly at: number }[];
  readonly archived: { readonly lsn: number; readonly at: number }[];
  readonly sealed: { readonly id: number; readonly baseLsn: number; readonly bytes: number }[];
  readonly puts: string[];
  readonly deletes: string[];
  readonly checkpoints: { readonly snapshot: number; readonly removed: number }[];
  readonly states: string[];
  readonly other: string[];
  /** Every line, in order. */
  readonly lines: string[];
}

function emptyLog(): WriterLog {
  return {
    acks: [],
    archived: [],
    sealed: [],
    puts: [],
    deletes: [],
    checkpoints: [],
    states: [],
    other: [],
    lines: [],
  };
}

function parseLine(log: WriterLog, line: string): void {
  log.lines.push(line);
  const [word, ...rest] = line.split(" ");
  const n = rest.map(Number);
  switch (word) {
    case "ack":
      log.acks.push({ i: n[0] as number, lsn: n[1] as number, at: n[2] as number });
      return;
    case "archived":
      log.archived.push({ lsn: n[0] as number, at: n[1] as number });
      return;
    case "sealed":
      log.sealed.push({ id: n[0] as number, baseLsn: n[1] as number, bytes: n[2] as number });
      return;
    case "put":
      log.puts.push(rest[0] as string);
      return;
    case "delete":
      log.deletes.push(rest[0] as string);
      return;
    case "checkpoint":
      log.checkpoints.push({ snapshot: n[0] as number, removed: n[1] as number });
      return;
    case "state":
      log.states.push(rest.join(" "));
      return;
    default:
      log.other.push(line);
  }
}

/** A running writer child. */
export interface WriterRun {
  readonly child: ChildProcess;
  readonly log: WriterLog;
  readonly exited: Promise<number | null>;
  /** Resolves once `ready` holds (checked after every line); rejects if the child exits first. */
  until(ready: (log: WriterLog) => boolean, what: string): Promise<void>;
  /** Resolves with `event`; rejects if the child exits first (with `state()` in the message). */
  whenever(event: Promise<void>, what: string, state: () => string): Promise<void>;
}

/** Start the bundled writer `script` with `config`. */
export function startWriter(script: string, config: WriterConfig): WriterRun {
  const child = spawn(process.execPath, [script, JSON.stringify(config)], {
    stdio: ["ignore", "pipe", "inherit"],
    // The SDK's notice that its 2027 releases need Node 22 (once per process) is noise here.
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
  });
  const log = emptyLog();
  let partial = "";
  const checks = new Set<() => void>();
  child.stdout?.on("data", (chunk: Buffer) => {
    partial += chunk.toString("utf8");
    const lines = partial.split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) parseLine(log, line);
    for (const check of [...checks]) check();
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  // No deadline in either wait: a wall-clock bound fails a writer that is only slow on a loaded machine; one that
  // never gets there is a hang, which the test timeout catches. A writer that exits first fails the wait at once.
  const until = (ready: (l: WriterLog) => boolean, what: string) =>
    new Promise<void>((resolve, reject) => {
      const last = () => `acks ${log.acks.length}, archived ${log.archived.at(-1)?.lsn}, other ${log.other.slice(-3)}`;
      const check = () => {
        if (!ready(log)) return;
        checks.delete(check);
        resolve();
      };
      checks.add(check);
      check();
      void exited.then((code) => {
        if (!checks.has(check)) return;
        checks.delete(check);
        reject(new Error(`the writer exited (${String(code)}) before ${what} (${last()})`));
      });
    });
  const whenever = (event: Promise<void>, what: string, state: () => string) =>
    new Promise<void>((resolve, reject) => {
      void event.then(() => resolve());
      void exited.then((code) =>
        reject(
          new Error(
            `the writer exited (${String(code)}) before ${what} (acks ${log.acks.length}, archived ${log.archived.at(-1)?.lsn}; ${state()})`,
          ),
        ),
      );
    });
  return { child, log, exited, until, whenever };
}

/** The writer's sequence number of a transaction (each holds one event). */
export function txOf(events: readonly Event[], beginLsn: number, commitLsn: number): Tx {
  if (events.length !== 1) throw new Error(`transaction ${beginLsn}..${commitLsn} holds ${events.length} events`);
  const e = events[0] as { i?: number; id?: bigint };
  const i = typeof e.id === "bigint" ? Number(e.id) : (e.i as number);
  return { i, beginLsn, commitLsn };
}

/** Open `dir` with `Wal.open` and collect its transactions; the handle stays open for the caller. */
export async function openHistory(
  dir: string,
  codec: CodecName,
  options: { readonly allowTruncatedHistory?: boolean; readonly segmentTargetBytes?: number } = {},
): Promise<{ wal: Wal<Event>; txs: Tx[] }> {
  const txs: Tx[] = [];
  const { wal } = await Wal.open<Event>(dir, {
    codec: codecOf(codec),
    ...options,
    onTransaction: (tx) => {
      txs.push(txOf(tx.events, tx.beginLsn, tx.commitLsn));
    },
  });
  return { wal, txs };
}

/** The transactions of `dir` as `Wal.open` replays them (the handle is closed again). */
export async function readHistory(dir: string, codec: CodecName): Promise<Tx[]> {
  const { wal, txs } = await openHistory(dir, codec);
  await wal.close();
  return txs;
}

/** Nodes LoraDB sees in `dir`. */
export async function loraNodeCount(dir: string): Promise<number> {
  const db = await openWalDatabase({ walDir: dir });
  try {
    return await db.nodeCount();
  } finally {
    db.dispose();
  }
}

/** `store`, recording the keys of the puts that resolved. */
export function recordingStore(store: ArchiveStore): ArchiveStore & { readonly puts: string[] } {
  const puts: string[] = [];
  return {
    name: store.name,
    puts,
    async put(key, bytes, options) {
      await store.put(key, bytes, options);
      puts.push(key);
    },
    get: (key, options) => store.get(key, options),
    list: (prefix, options) => store.list(prefix, options),
    delete: (key, options) => store.delete(key, options),
  };
}

/** The records of a segment file: LSN, and the bytes `[offset, end)` each occupies. */
export async function recordSpans(
  path: string,
  codec: CodecName,
): Promise<{ readonly lsn: number; readonly offset: number; readonly end: number }[]> {
  const reader = await SegmentReader.open(createNodeFileSystem(), path);
  const spans: { lsn: number; offset: number; end: number }[] = [];
  try {
    for (;;) {
      const step = await reader.next(codecOf(codec));
      if (step.kind === "end") return spans;
      if (step.kind === "damaged") throw step.error;
      spans.push({ lsn: step.record.lsn, offset: step.offset, end: step.offset + step.byteLength });
    }
  } finally {
    await reader.close();
  }
}

/** The event of transaction `i` as the writer child makes it (with the smallest padding). */
export function eventFor(codec: CodecName, i: number): Event {
  if (codec === "json") return { i, pad: "y".repeat(40) };
  const properties = createPropertyMap();
  properties.i = BigInt(i);
  return { type: "CreateNode", id: BigInt(i), labels: ["Archived"], properties };
}
