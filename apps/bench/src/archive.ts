/**
 * The archiving measurements (`--only archive`), run in child processes like the other groups:
 *
 * - **copy**: archive an existing, closed log (a copy of the shared `commitTx`-layout dataset) with `startArchiver`
 *   + `flush()`, against a raw copy of the same segment files to the same kind of store: for a directory, read +
 *   write + fsync + rename + directory fsync per segment; for S3, one plain `PutObject` per segment with the same
 *   client settings.
 * - **restore**: `restore()` from a prepared archive, against a raw copy of the same objects into a fresh directory
 *   (read or `GetObject`, write, fsync, rename, directory fsync per object).
 * - **rpo**: 64 closed-loop writers (`perCommit`) with an archiver attached; `status()` sampled every `sampleMs` (10 ms in full runs).
 * - **writerCost**: 64-writer blocks with and without an archiver (fsArchive) attached, paired, beside the same pairs
 *   for a raw copier of sealed segments (the floor) and an A/A control.
 *
 * The local S3 server (s3rver) runs in its own process, started by the parent for the whole group
 * ({@link startS3Server}); every child talks to it through its own client.
 */

import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import { createRequire } from "node:module";
import { loadavg } from "node:os";
import { basename, join } from "node:path";
import { createInterface } from "node:readline";
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { Wal } from "@lora/wal";
import { type ArchiveStore, fsArchive, restore, startArchiver } from "@lora/wal-archive";
import { s3Archive } from "@lora/wal-archive/s3";
import { bytesCodec } from "@lora/wal-codec";
import { pairedBlocks } from "./paired-blocks.js";
import { makePayload } from "./payload.js";
import { closedLoop } from "./timing.js";

export type StoreKind = "fs" | "s3";

/** Where the parent's s3rver listens, and the bucket it created. */
export interface S3Target {
  readonly endpoint: string;
  readonly bucket: string;
}

export type ArchiveJob =
  | {
      readonly kind: "copy";
      readonly store: StoreKind;
      readonly system: "archiver" | "raw";
      readonly dataDir: string;
      readonly workDir: string;
      /** A key prefix of its own in the bucket (S3 only). */
      readonly prefix: string;
      readonly s3: S3Target;
    }
  | {
      readonly kind: "prepareArchive";
      readonly store: StoreKind;
      readonly dataDir: string;
      readonly workDir: string;
      /** The fsArchive directory (fs) or the bucket prefix (S3) to fill. */
      readonly archiveDir: string;
      readonly prefix: string;
      readonly s3: S3Target;
    }
  | {
      readonly kind: "restore";
      readonly store: StoreKind;
      readonly system: "restore" | "raw";
      readonly archiveDir: string;
      readonly prefix: string;
      readonly workDir: string;
      readonly s3: S3Target;
    }
  | {
      readonly kind: "rpo";
      readonly store: StoreKind;
      readonly dir: string;
      readonly prefix: string;
      readonly s3: S3Target;
      readonly commits: number;
      readonly concurrency: number;
      readonly intervalMs: number;
      readonly sampleMs: number;
      readonly timeLimitMs: number;
    }
  | {
      readonly kind: "writerCost";
      readonly dir: string;
      readonly cycles: number;
      readonly warmupCycles: number;
      readonly blockCommits: number;
      readonly concurrency: number;
      readonly intervalMs: number;
    };

/** 1-, 5- and 15-minute load averages. */
export type Load = readonly [number, number, number];
const load = (): Load => loadavg() as unknown as Load;

export interface CopyResult {
  readonly kind: "copy" | "restore";
  readonly bytes: number;
  readonly objects: number;
  readonly seconds: number;
  readonly load: { readonly start: Load; readonly end: Load };
}

export interface RpoSample {
  /** Milliseconds since the run's first commit. */
  readonly atMs: number;
  readonly lagMs: number;
  readonly lsnsBehind: number;
  readonly pendingSegments: number;
}

export interface RpoResult {
  readonly kind: "rpo";
  readonly commits: number;
  readonly seconds: number;
  readonly samples: readonly RpoSample[];
  /** The widest gap between two samples (the event loop under 64 writers can stretch the sampling timer). */
  readonly maxSampleGapMs: number;
  readonly uploadedPieces: number;
  readonly uploadedSegments: number;
  readonly uploadedBytes: number;
  readonly logBytes: number;
  readonly failures: number;
  readonly load: { readonly start: Load; readonly end: Load };
}

export type CostCondition = "base" | "archiver" | "rawCopy" | "control";

export interface CostBlock {
  readonly cycle: number;
  readonly pair: Exclude<CostCondition, "base">;
  readonly condition: CostCondition;
  readonly commits: number;
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly syncs: number;
  /** Pieces and segments the archiver uploaded (or segments the raw copier copied) during the block. */
  readonly uploads: number;
}

export interface WriterCostResult {
  readonly kind: "writerCost";
  readonly blocks: readonly CostBlock[];
  readonly load: { readonly start: Load; readonly end: Load };
}

export type ArchiveChildResult = CopyResult | RpoResult | WriterCostResult | { readonly kind: "prepared" };

// ---- the S3 server and clients -------------------------------------------------------------------------------

/** s3rver accepts this key pair only (it checks no signature). */
const S3_CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };

function s3Client(target: S3Target): S3Client {
  return new S3Client({
    endpoint: target.endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: S3_CREDENTIALS,
  });
}

/** Runs in the server process: start s3rver with one bucket, print the port, exit when stdin closes. */
const S3_SERVER = `
const [modulePath, directory, bucket] = process.argv.slice(1);
const S3rver = require(modulePath);
new S3rver({ address: "127.0.0.1", port: 0, silent: true, directory, configureBuckets: [{ name: bucket }] })
  .run()
  .then((address) => {
    process.stdout.write(JSON.stringify({ port: address.port }) + "\\n");
    process.stdin.resume();
    process.stdin.on("end", () => process.exit(0));
  }, (error) => {
    process.stderr.write(String(error && error.stack) + "\\n");
    process.exit(1);
  });
`;

/**
 * s3rver on 127.0.0.1 in a process of its own (with `--openssl-legacy-provider`: it encrypts ListObjectsV2
 * continuation tokens with DES), keeping its objects under `dir`. It exits when the parent closes its stdin or dies.
 */
export async function startS3Server(dir: string, bucket = "bench"): Promise<S3Target & { stop(): Promise<void> }> {
  fs.mkdirSync(dir, { recursive: true });
  const modulePath = createRequire(import.meta.url).resolve("s3rver");
  const child: ChildProcess = spawn(
    process.execPath,
    ["--openssl-legacy-provider", "-e", S3_SERVER, modulePath, dir, bucket],
    {
      stdio: ["pipe", "pipe", "inherit"],
    },
  );
  const port = await new Promise<number>((resolve, reject) => {
    const out = child.stdout;
    if (out === null) return reject(new Error("s3rver: no stdout"));
    const lines = createInterface({ input: out });
    const onExit = (code: number | null) => reject(new Error(`s3rver exited (${String(code)}) before listening`));
    child.once("exit", onExit);
    lines.once("line", (line) => {
      child.off("exit", onExit);
      lines.close();
      out.resume();
      try {
        resolve((JSON.parse(line) as { port: number }).port);
      } catch (e) {
        reject(e);
      }
    });
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.stdin?.end();
      await exited;
    },
  };
}

function makeStore(
  kind: StoreKind,
  fsDir: string,
  prefix: string,
  target: S3Target,
): {
  store: ArchiveStore;
  close(): void;
} {
  if (kind === "fs") return { store: fsArchive(fsDir), close: () => undefined };
  const client = s3Client(target);
  return { store: s3Archive({ client, bucket: target.bucket, prefix }), close: () => client.destroy() };
}

// ---- helpers --------------------------------------------------------------------------------------------------

const SEGMENT_FILE = /^\d{10}\.wal$/;

function segmentFiles(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((n) => SEGMENT_FILE.test(n))
    .sort();
}

/** Every regular file under `dir`, relative, sorted. */
function filesUnder(dir: string, rel = ""): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(join(dir, rel), { withFileTypes: true })) {
    const r = rel === "" ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory()) out.push(...filesUnder(dir, r));
    else if (e.isFile()) out.push(r);
  }
  return out.sort();
}

function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, "r");
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** What a durable store does per object, by hand: temp file, write, fsync, rename, directory fsync. */
async function writeDurably(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp`;
  const fh = await fs.promises.open(tmp, "w");
  try {
    await fh.write(bytes, 0, bytes.byteLength, 0);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fs.promises.rename(tmp, path);
  const dir = await fs.promises.open(join(path, ".."), "r");
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/**
 * The floor under the archiver's writer cost: every sealed segment copied durably by hand to a directory on the same
 * disk (read it whole, {@link writeDurably}), one at a time, in the writer's process. No CRC, no pieces of the active
 * segment, no slot: the bytes archiving must move at the least.
 */
function rawSegmentCopier(wal: Wal<Uint8Array>, to: string) {
  fs.mkdirSync(to, { recursive: true });
  let copies = Promise.resolve();
  let copied = 0;
  const copy = async (path: string) => {
    await writeDurably(join(to, basename(path)), await fs.promises.readFile(path));
    copied++;
  };
  const unsubscribe = wal.onLifecycle((event) => {
    if (event.type === "sealed") copies = copies.then(() => copy(event.segment.path));
  });
  return {
    copied: () => copied,
    flush: () => copies,
    async stop(): Promise<void> {
      unsubscribe();
      await copies;
    },
  };
}

/** The closed dataset copied (untimed, then fsynced) so that every system reads a fresh copy of its own. */
function copyLog(dataDir: string, to: string): void {
  fs.rmSync(to, { recursive: true, force: true });
  fs.mkdirSync(to, { recursive: true });
  for (const n of segmentFiles(dataDir)) {
    fs.copyFileSync(join(dataDir, n), join(to, n));
    const fd = fs.openSync(join(to, n), "r");
    fs.fsyncSync(fd);
    fs.closeSync(fd);
  }
  fsyncDir(to);
}

async function openLog(dir: string): Promise<Wal<Uint8Array>> {
  const { wal } = await Wal.open(dir, { codec: bytesCodec, syncMode: "perCommit", onTransaction: () => undefined });
  return wal;
}

// ---- jobs -----------------------------------------------------------------------------------------------------

async function runCopy(job: Extract<ArchiveJob, { kind: "copy" }>): Promise<CopyResult> {
  const start = load();
  const walDir = join(job.workDir, "wal");
  const archiveDir = join(job.workDir, "archive");
  copyLog(job.dataDir, walDir);
  try {
    if (job.system === "archiver") {
      const wal = await openLog(walDir);
      const { store, close } = makeStore(job.store, archiveDir, job.prefix, job.s3);
      try {
        const t0 = performance.now();
        const archiver = startArchiver(wal, { store, intervalMs: 1000 });
        await archiver.flush();
        const seconds = (performance.now() - t0) / 1000;
        const s = archiver.status();
        await archiver.stop();
        return {
          kind: "copy",
          bytes: s.uploadedBytes,
          objects: s.uploadedSegments + s.uploadedPieces,
          seconds,
          load: { start, end: load() },
        };
      } finally {
        await wal.close();
        close();
      }
    }
    // Raw: the same segment files, whole, to the same kind of store.
    const names = segmentFiles(walDir);
    let bytes = 0;
    let seconds: number;
    if (job.store === "fs") {
      fs.mkdirSync(archiveDir, { recursive: true });
      fsyncDir(job.workDir);
      const t0 = performance.now();
      for (const n of names) {
        const b = await fs.promises.readFile(join(walDir, n));
        await writeDurably(join(archiveDir, n), b);
        bytes += b.byteLength;
      }
      seconds = (performance.now() - t0) / 1000;
    } else {
      const client = s3Client(job.s3);
      try {
        const t0 = performance.now();
        for (const n of names) {
          const b = await fs.promises.readFile(join(walDir, n));
          await client.send(
            new PutObjectCommand({
              Bucket: job.s3.bucket,
              Key: `${job.prefix}/${n}`,
              Body: b,
              ContentLength: b.length,
            }),
          );
          bytes += b.byteLength;
        }
        seconds = (performance.now() - t0) / 1000;
      } finally {
        client.destroy();
      }
    }
    return { kind: "copy", bytes, objects: names.length, seconds, load: { start, end: load() } };
  } finally {
    fs.rmSync(job.workDir, { recursive: true, force: true });
  }
}

async function runPrepare(job: Extract<ArchiveJob, { kind: "prepareArchive" }>): Promise<{ kind: "prepared" }> {
  const walDir = join(job.workDir, "wal");
  copyLog(job.dataDir, walDir);
  const wal = await openLog(walDir);
  const { store, close } = makeStore(job.store, job.archiveDir, job.prefix, job.s3);
  try {
    const archiver = startArchiver(wal, { store, intervalMs: 1000 });
    await archiver.flush();
    await archiver.stop();
  } finally {
    await wal.close();
    close();
    fs.rmSync(job.workDir, { recursive: true, force: true });
  }
  return { kind: "prepared" };
}

async function runRestore(job: Extract<ArchiveJob, { kind: "restore" }>): Promise<CopyResult> {
  const start = load();
  const target = join(job.workDir, "restored");
  fs.mkdirSync(job.workDir, { recursive: true });
  try {
    if (job.system === "restore") {
      const { store, close } = makeStore(job.store, job.archiveDir, job.prefix, job.s3);
      try {
        const t0 = performance.now();
        const r = await restore({ store, dir: target });
        const seconds = (performance.now() - t0) / 1000;
        return { kind: "restore", bytes: r.bytes, objects: r.objects, seconds, load: { start, end: load() } };
      } finally {
        close();
      }
    }
    // Raw: every object of the archive, fetched whole and written durably as a file of its own.
    fs.mkdirSync(target, { recursive: true });
    fsyncDir(job.workDir);
    let bytes = 0;
    let objects = 0;
    const t0 = performance.now();
    if (job.store === "fs") {
      for (const rel of filesUnder(job.archiveDir)) {
        const b = await fs.promises.readFile(join(job.archiveDir, rel));
        await writeDurably(join(target, rel.replaceAll("/", "_")), b);
        bytes += b.byteLength;
        objects++;
      }
    } else {
      const client = s3Client(job.s3);
      try {
        let token: string | undefined;
        do {
          const page = await client.send(
            new ListObjectsV2Command({ Bucket: job.s3.bucket, Prefix: `${job.prefix}/`, ContinuationToken: token }),
          );
          for (const o of page.Contents ?? []) {
            const got = await client.send(new GetObjectCommand({ Bucket: job.s3.bucket, Key: o.Key }));
            const b = await (got.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray();
            await writeDurably(join(target, (o.Key ?? "x").replaceAll("/", "_")), b);
            bytes += b.byteLength;
            objects++;
          }
          token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
        } while (token !== undefined);
      } finally {
        client.destroy();
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    return { kind: "restore", bytes, objects, seconds, load: { start, end: load() } };
  } finally {
    fs.rmSync(job.workDir, { recursive: true, force: true });
  }
}

async function runRpo(job: Extract<ArchiveJob, { kind: "rpo" }>): Promise<RpoResult> {
  const start = load();
  const walDir = join(job.dir, "wal");
  const { wal } = await Wal.open(walDir, { codec: bytesCodec, syncMode: "perCommit" });
  const { store, close } = makeStore(job.store, join(job.dir, "archive"), job.prefix, job.s3);
  const payload = makePayload();
  try {
    const archiver = startArchiver(wal, { store, intervalMs: job.intervalMs });
    await archiver.flush();
    const samples: RpoSample[] = [];
    const t0 = performance.now();
    let last = t0;
    let maxGap = 0;
    const sample = () => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
      const s = archiver.status();
      samples.push({
        atMs: now - t0,
        lagMs: s.lagMs,
        lsnsBehind: s.durableLsn - s.archivedLsn,
        pendingSegments: s.pendingSegments,
      });
    };
    const timer = setInterval(sample, job.sampleMs);
    let r: Awaited<ReturnType<typeof closedLoop>>;
    try {
      r = await closedLoop({ count: job.commits, concurrency: job.concurrency, timeLimitMs: job.timeLimitMs }, () =>
        wal.commitTx([payload]),
      );
    } finally {
      clearInterval(timer);
    }
    const s = archiver.status();
    await archiver.stop();
    const logBytes = segmentFiles(walDir).reduce((acc, n) => acc + fs.statSync(join(walDir, n)).size, 0);
    return {
      kind: "rpo",
      commits: r.ops,
      seconds: r.seconds,
      samples,
      maxSampleGapMs: maxGap,
      uploadedPieces: s.uploadedPieces,
      uploadedSegments: s.uploadedSegments,
      uploadedBytes: s.uploadedBytes,
      logBytes,
      failures: s.failures,
      load: { start, end: load() },
    };
  } finally {
    await wal.close();
    close();
    fs.rmSync(job.dir, { recursive: true, force: true });
  }
}

async function runWriterCost(job: Extract<ArchiveJob, { kind: "writerCost" }>): Promise<WriterCostResult> {
  const start = load();
  const { wal } = await Wal.open(join(job.dir, "wal"), { codec: bytesCodec, syncMode: "perCommit" });
  const store = fsArchive(join(job.dir, "archive"));
  const payload = makePayload();
  const blocks: CostBlock[] = [];
  const block = async (condition: CostCondition): Promise<Omit<CostBlock, "cycle" | "pair">> => {
    // The archiver is attached before the block and caught up (untimed), and stopped after it (untimed, shipping
    // what the block left), so every block starts from an archive that holds the whole log.
    const archiver = condition === "archiver" ? startArchiver(wal, { store, intervalMs: job.intervalMs }) : null;
    const copier = condition === "rawCopy" ? rawSegmentCopier(wal, join(job.dir, "raw-copies")) : null;
    await wal.commitTx([payload]);
    await archiver?.flush();
    await copier?.flush();
    const copiedBefore = copier?.copied() ?? 0;
    const before = archiver?.status();
    const io0 = wal.ioStats();
    const r = await closedLoop({ count: job.blockCommits, concurrency: job.concurrency, timeLimitMs: 120_000 }, () =>
      wal.commitTx([payload]),
    );
    const syncs = wal.ioStats().syncs - io0.syncs;
    const after = archiver?.status();
    const copiedAfter = copier?.copied() ?? 0;
    await archiver?.stop();
    await copier?.stop();
    const uploads =
      before === undefined || after === undefined
        ? copiedAfter - copiedBefore
        : after.uploadedPieces + after.uploadedSegments - before.uploadedPieces - before.uploadedSegments;
    return { condition, commits: r.ops, seconds: r.seconds, cpuSeconds: r.cpuSeconds, syncs, uploads };
  };
  const pairs: Exclude<CostCondition, "base">[] = ["archiver", "rawCopy", "control"];
  try {
    for (const { cycle, pair, condition } of pairedBlocks(pairs, job.warmupCycles + job.cycles)) {
      const b = await block(condition);
      if (cycle >= job.warmupCycles) blocks.push({ cycle: cycle - job.warmupCycles, pair, ...b });
    }
    return { kind: "writerCost", blocks, load: { start, end: load() } };
  } finally {
    await wal.close();
    fs.rmSync(job.dir, { recursive: true, force: true });
  }
}

export async function runArchiveJob(job: ArchiveJob): Promise<ArchiveChildResult> {
  switch (job.kind) {
    case "copy":
      return runCopy(job);
    case "prepareArchive":
      return runPrepare(job);
    case "restore":
      return runRestore(job);
    case "rpo":
      return runRpo(job);
    case "writerCost":
      return runWriterCost(job);
  }
}
