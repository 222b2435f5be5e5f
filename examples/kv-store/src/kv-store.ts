/**
 * A small key-value store built on `@lora/wal`: the map lives in memory, every change is a WAL transaction, and a
 * checkpoint writes the whole map to a snapshot file so old log segments can be deleted.
 *
 * Layout of `dir`: `snapshot.json` (the last checkpoint, written atomically) and `wal/` (the log). Recovery =
 * load the snapshot, then replay the log above the snapshot's LSN (the fence).
 */

import { dirname, join } from "node:path";
import { type JsonValue, jsonCodec, type PayloadCodec, type SyncModeInput, Wal, type WalFileSystem } from "@lora/wal";
import { createNodeFileSystem } from "@lora/wal-segment";

/** One logged change. */
export type KvEvent =
  | { readonly op: "put"; readonly key: string; readonly value: JsonValue }
  | { readonly op: "del"; readonly key: string };

export interface KvStoreOptions {
  /** The file-system seam, for the snapshot and the log alike (SimFS in crash tests). @default the Node file system */
  readonly fs?: WalFileSystem;
  /** The log's sync mode: `"perCommit"` acknowledges a change only once it is durable. @default "perCommit" */
  readonly syncMode?: SyncModeInput;
  /** Rotate log segments at this size; small values make checkpoints actually delete segments. @default 8 MiB */
  readonly segmentTargetBytes?: number;
}

/** The snapshot file: the whole map as of `lsn` (every log record at or below it is in `entries`). */
interface Snapshot {
  readonly lsn: number;
  readonly entries: [string, JsonValue][];
}

export const SNAPSHOT_FILE = "snapshot.json";
const SNAPSHOT_TMP = "snapshot.json.tmp";

// Events are plain JSON objects, so the built-in JSON codec carries them (a PayloadCodec of any event type);
// decoding trusts what we wrote.
const kvCodec: PayloadCodec<KvEvent> = jsonCodec;

/** A durable `Map<string, JsonValue>`: `put`/`delete` resolve once the change is in the log (durably in perCommit). */
export class KvStore {
  readonly #dir: string;
  readonly #fs: WalFileSystem;
  readonly #map: Map<string, JsonValue>;
  #wal: Wal<KvEvent>;
  // Changes are applied one at a time so the map always equals the log replayed in LSN order.
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(dir: string, fs: WalFileSystem, map: Map<string, JsonValue>, wal: Wal<KvEvent>) {
    this.#dir = dir;
    this.#fs = fs;
    this.#map = map;
    this.#wal = wal;
  }

  /**
   * Open (or create) a store in `dir` and recover it: load `snapshot.json`, then replay the log above the
   * snapshot's LSN. A torn log tail left by a crash is cut (see `@lora/wal`).
   * @throws `WalError` as `Wal.open` (`WAL_LOCKED`, `WAL_CORRUPT`, `WAL_IO`, …).
   */
  static async open(dir: string, options: KvStoreOptions = {}): Promise<KvStore> {
    const fs = options.fs ?? createNodeFileSystem();
    // A new store directory must survive a power loss like a new file: its name is made durable by an fsync of the
    // parent (torture tier D found it created without one).
    if ((await fs.stat(dir)) === null) {
      await fs.mkdirp(dir);
      await fs.syncDir(dirname(dir));
    }
    const snapshot = await readSnapshot(fs, dir);
    const map = new Map(snapshot?.entries ?? []);
    const { wal, events } = await Wal.open(join(dir, "wal"), {
      codec: kvCodec,
      fs,
      checkpointLsn: snapshot?.lsn ?? 0,
      ...(options.syncMode === undefined ? {} : { syncMode: options.syncMode }),
      ...(options.segmentTargetBytes === undefined ? {} : { segmentTargetBytes: options.segmentTargetBytes }),
    });
    for (const event of events) apply(map, event);
    return new KvStore(dir, fs, map, wal);
  }

  get(key: string): JsonValue | undefined {
    return this.#map.get(key);
  }

  has(key: string): boolean {
    return this.#map.has(key);
  }

  get size(): number {
    return this.#map.size;
  }

  /** A copy of the current contents. */
  toMap(): Map<string, JsonValue> {
    return new Map(this.#map);
  }

  /** The underlying log handle (for `durableLsn()`, `ioStats()`, …). */
  get wal(): Wal<KvEvent> {
    return this.#wal;
  }

  /** Set `key`; resolves once the change is logged (after an fdatasync in perCommit mode). */
  put(key: string, value: JsonValue): Promise<void> {
    return this.#change({ op: "put", key, value });
  }

  /** Remove `key`; resolves `false` (writing nothing) when it is absent. */
  delete(key: string): Promise<boolean> {
    return this.#serial(async () => {
      if (!this.#map.has(key)) return false;
      await this.#commit({ op: "del", key });
      return true;
    });
  }

  /**
   * Write the whole map to `snapshot.json` and drop the log segments it covers. Order matters for crash safety:
   * the snapshot is durable (tmp file, fsync, rename, directory fsync) before the checkpoint marker is logged and
   * before any segment is deleted, so a crash at any point leaves either the old snapshot with the whole log
   * above it or the new one.
   * @returns the snapshot's LSN.
   */
  checkpoint(): Promise<number> {
    return this.#serial(async () => {
      const lsn = this.#wal.nextLsn() - 1; // every change so far is applied to the map
      const snapshot: Snapshot = { lsn, entries: [...this.#map] };
      await writeFileAtomic(this.#fs, this.#dir, SNAPSHOT_FILE, JSON.stringify(snapshot));
      // Marker, fsync, then truncation. The LSN is a commit LSN (changes are serialised), so it is never inside a
      // transaction, which the handle would refuse.
      await this.#wal.checkpoint(lsn);
      return lsn;
    });
  }

  /** Close the log (what is buffered is written and fsynced) and release the directory lock. */
  close(): Promise<void> {
    return this.#serial(() => this.#wal.close());
  }

  #change(event: KvEvent): Promise<void> {
    return this.#serial(() => this.#commit(event));
  }

  async #commit(event: KvEvent): Promise<void> {
    await this.#wal.commitTx([event]);
    // Applied only after the log accepted it: the map never shows a change a crash could take back (perCommit).
    apply(this.#map, event);
  }

  #serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}

function apply(map: Map<string, JsonValue>, event: KvEvent): void {
  if (event.op === "put") map.set(event.key, event.value);
  else map.delete(event.key);
}

async function readSnapshot(fs: WalFileSystem, dir: string): Promise<Snapshot | null> {
  // A leftover tmp file is a checkpoint that crashed before its rename: the previous snapshot still stands.
  if ((await fs.stat(join(dir, SNAPSHOT_TMP))) !== null) await fs.unlink(join(dir, SNAPSHOT_TMP));
  const path = join(dir, SNAPSHOT_FILE);
  const stat = await fs.stat(path);
  if (stat === null) return null;
  const file = await fs.open(path, "read");
  try {
    const bytes = new Uint8Array(stat.size);
    let done = 0;
    while (done < bytes.length) {
      const n = await file.read(bytes, done, bytes.length - done, done);
      if (n === 0) break;
      done += n;
    }
    return JSON.parse(new TextDecoder().decode(bytes.subarray(0, done))) as Snapshot;
  } finally {
    await file.close();
  }
}

/** Replace `dir/name` atomically and durably: write a tmp file, fsync it, rename it over, fsync the directory. */
async function writeFileAtomic(fs: WalFileSystem, dir: string, name: string, text: string): Promise<void> {
  const tmp = join(dir, `${name}.tmp`);
  if ((await fs.stat(tmp)) !== null) await fs.unlink(tmp);
  const file = await fs.open(tmp, "createExclusive");
  try {
    await file.write(new TextEncoder().encode(text), 0);
    await file.sync();
  } finally {
    await file.close();
  }
  await fs.rename(tmp, join(dir, name));
  await fs.syncDir(dir);
}
