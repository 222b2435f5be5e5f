#!/usr/bin/env node
/**
 * Old-vs-new cost of the commit path (issue 12: "bench rows before and after"), two builds of the workspace side by
 * side:
 *
 *   node scripts/ab-commit-path.mjs --old <repo root> --new <repo root> [--rounds 5] [--rows none,buffered,...]
 *                                   [--quick] [--out <file.json>]
 *
 * Each root must have `packages/{wal,wal-codec}/dist` built (`pnpm turbo run build --filter=@lora/wal...`). Every
 * round of every (row, build) runs in a fresh `node` child that imports that root's `dist` by path, warms up on a
 * tenth of the work in a directory of its own, then measures once. Rounds are interleaved (round 1 of every build,
 * then round 2, ...) and the order of the builds rotates from round to round, so machine load drifting over minutes
 * hits both alike; the ratios are taken per round (new ÷ old of the same round) and summarised by median and min – max.
 *
 * Rows (100-byte payload, `bytesCodec`, the bench's shapes):
 *   none                  commitTx([payload]), syncMode "none", one awaiting writer
 *   buffered              begin, 1000 × append(tx, payload), commit, repeated; one flush() at the end (perCommit handle)
 *   buffered-batch        the same with appendBatch(tx, [payload]) (the bench's append-buffered row)
 *   buffered-yield        `buffered` plus one event-loop turn (setImmediate) after each transaction: a producer that
 *                         yields lets the writer see its background fdatasync complete (see PROFILE.md)
 *   serial                commitTx([payload]), perCommit, one awaiting writer
 *   c64                   commitTx([payload]), perCommit, 64 concurrent writers
 *
 * For `none` and the buffered rows a third build runs: the new root with `unsyncedWindowBytes: 2^30` (the window
 * never fills within an 8 MiB segment, so the writer never fdatasyncs for it): new ÷ that is the cost of the
 * window's fdatasyncs alone, that ÷ old the cost of everything else (transaction-id checks, the checkpoint bitmap,
 * argument and integer validation).
 *
 * Reported per build: ops/s and ops per CPU-second (process.cpuUsage, user + system, all threads, of the timed part)
 * with median and min – max over rounds, and write and fdatasync/fsync calls per op counted at the file-system seam
 * during the timed part (`Wal.ioStats` would miss the segment writer's window syncs). The 1-minute load
 * average is sampled before every round. Each root's dist files are hashed at the start and the end: a rebuild in
 * the middle of the run (another engineer's) is reported, since it would mix two builds in one column.
 *
 * Not part of `.ci/run`: a manual, minutes-long measurement. Writes JSON to --out (default
 * apps/bench/.tmp/ab-commit-path/<time>.json, gitignored) and prints a markdown table.
 */

import { execFileSync, fork } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const SELF = fileURLToPath(import.meta.url);
const APP_DIR = resolve(dirname(SELF), "..");
const PAYLOAD_BYTES = 100;
const NO_WINDOW = 2 ** 30;

/** The rows: what each child does, and how much of it. */
const ROWS = {
  none: {
    title: "commitTx, none, 1 writer",
    unit: "commits",
    full: { count: 400_000, limitMs: 4000 },
    quick: { count: 150_000, limitMs: 2000 },
    windowVariant: true,
  },
  buffered: {
    title: "buffered append ×1000 + commit, flush at end",
    unit: "records",
    full: { count: 1_000_000, limitMs: 6000 },
    quick: { count: 400_000, limitMs: 3000 },
    windowVariant: true,
  },
  "buffered-batch": {
    title: "buffered appendBatch ×1000 + commit, flush at end",
    unit: "records",
    full: { count: 1_000_000, limitMs: 6000 },
    quick: { count: 400_000, limitMs: 3000 },
    windowVariant: true,
  },
  "buffered-yield": {
    title: "buffered append ×1000 + commit + setImmediate, flush at end",
    unit: "records",
    full: { count: 1_000_000, limitMs: 6000 },
    quick: { count: 400_000, limitMs: 3000 },
    windowVariant: true,
  },
  serial: {
    title: "commitTx, perCommit, 1 writer",
    unit: "commits",
    full: { count: 4000, limitMs: 4000 },
    quick: { count: 1500, limitMs: 2000 },
    windowVariant: false,
  },
  c64: {
    title: "commitTx, perCommit, 64 writers",
    unit: "commits",
    full: { count: 60_000, limitMs: 4000 },
    quick: { count: 20_000, limitMs: 2000 },
    windowVariant: false,
  },
};

// ---- child -------------------------------------------------------------------------------------------------------

function makePayload() {
  const b = Buffer.alloc(PAYLOAD_BYTES);
  let x = 0x9e3779b9;
  for (let i = 0; i < b.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

/**
 * The default Node file system of a root, with its files' write and sync calls counted (`Wal.ioStats` counts only
 * the commit pipeline's, not the segment writer's window fdatasyncs, rotation or close). The counters are own
 * properties wrapping the instance's methods, called with the instance as `this`; a few ns per call, alike for both
 * builds.
 */
function countingFs(createNodeFileSystem, counts) {
  const fs = createNodeFileSystem();
  const open = fs.open;
  fs.open = async function (...args) {
    const file = await open.apply(this, args);
    for (const [method, counter] of [
      ["write", "writes"],
      ["writeSync", "writes"],
      ["datasync", "syncs"],
      ["datasyncSync", "syncs"],
      ["sync", "syncs"],
    ]) {
      const f = file[method];
      if (typeof f !== "function") continue;
      file[method] = function (...a) {
        counts[counter]++;
        return f.apply(this, a);
      };
    }
    return file;
  };
  const syncDir = fs.syncDir;
  fs.syncDir = function (...a) {
    counts.dirSyncs++;
    return syncDir.apply(this, a);
  };
  return fs;
}

async function runRow(lib, row, dir, count, limitMs, walOptions) {
  const { Wal, bytesCodec } = lib;
  const payload = makePayload();
  const syncMode = row === "none" ? "none" : "perCommit";
  const counts = { writes: 0, syncs: 0, dirSyncs: 0 };
  const fs = countingFs(lib.createNodeFileSystem, counts);
  const { wal } = await Wal.open(dir, { codec: bytesCodec, syncMode, fs, ...walOptions });
  const counts0 = { ...counts };
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const deadline = t0 + limitMs;
  let ops = 0;
  if (row === "buffered" || row === "buffered-batch" || row === "buffered-yield") {
    const events = [payload];
    const batch = row === "buffered-batch";
    const yieldEach = row === "buffered-yield";
    while (ops < count && performance.now() < deadline) {
      const tx = await wal.begin();
      const m = Math.min(1000, count - ops);
      if (batch) for (let j = 0; j < m; j++) await wal.appendBatch(tx, events);
      else for (let j = 0; j < m; j++) await wal.append(tx, payload);
      await wal.commit(tx);
      ops += m;
      if (yieldEach) await new Promise((r) => setImmediate(r));
    }
    await wal.flush();
  } else {
    const concurrency = row === "c64" ? 64 : 1;
    const events = [payload];
    const worker = async () => {
      while (ops < count && performance.now() < deadline) {
        ops++;
        await wal.commitTx(events);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  }
  const seconds = (performance.now() - t0) / 1000;
  const u = process.cpuUsage(cpu0);
  // Counted up to the end of the timed part (the flush included), not the close.
  const writes = counts.writes - counts0.writes;
  const syncs = counts.syncs - counts0.syncs;
  const io = wal.ioStats();
  await wal.close();
  return {
    ops,
    seconds,
    cpuSeconds: (u.user + u.system) / 1e6,
    writes,
    syncs,
    pipelineWrites: io.writes,
    pipelineSyncs: io.syncs,
  };
}

async function child(job) {
  const wal = await import(pathToFileURL(join(job.root, "packages/wal/dist/index.js")).href);
  const codec = await import(pathToFileURL(join(job.root, "packages/wal-codec/dist/index.js")).href);
  const segment = await import(pathToFileURL(join(job.root, "packages/wal-segment/dist/index.js")).href);
  const lib = { Wal: wal.Wal, bytesCodec: codec.bytesCodec, createNodeFileSystem: segment.createNodeFileSystem };
  const walOptions = job.noWindow ? { unsyncedWindowBytes: NO_WINDOW } : {};
  const fresh = (name) => {
    const d = join(job.dir, name);
    rmSync(d, { recursive: true, force: true });
    mkdirSync(d, { recursive: true });
    return d;
  };
  try {
    await runRow(lib, job.row, fresh("warmup"), Math.max(1, Math.floor(job.count / 10)), job.limitMs, walOptions);
    rmSync(join(job.dir, "warmup"), { recursive: true, force: true });
    return await runRow(lib, job.row, fresh("measure"), job.count, job.limitMs, walOptions);
  } finally {
    rmSync(job.dir, { recursive: true, force: true });
  }
}

// ---- parent ------------------------------------------------------------------------------------------------------

function parseArgs(argv) {
  const o = { old: undefined, new: undefined, rounds: 5, rows: Object.keys(ROWS), profile: "full", out: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") continue;
    else if (a === "--old") o.old = resolve(argv[++i]);
    else if (a === "--new") o.new = resolve(argv[++i]);
    else if (a === "--rounds") o.rounds = Number(argv[++i]);
    else if (a === "--rows") o.rows = argv[++i].split(",");
    else if (a === "--quick") o.profile = "quick";
    else if (a === "--out") o.out = resolve(argv[++i]);
    else if (a === "--help" || a === "-h") {
      process.stdout.write(
        `usage: node scripts/ab-commit-path.mjs --old <root> --new <root> [--rounds N] [--rows ${Object.keys(ROWS).join(",")}] [--quick] [--out file.json]\n`,
      );
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  if (o.old === undefined || o.new === undefined) throw new Error("--old and --new are required (repository roots)");
  for (const r of o.rows) if (!(r in ROWS)) throw new Error(`unknown row ${r} (${Object.keys(ROWS).join(", ")})`);
  if (!Number.isInteger(o.rounds) || o.rounds < 1) throw new Error("--rounds must be a positive integer");
  for (const root of [o.old, o.new]) {
    for (const p of ["wal", "wal-codec", "wal-segment", "wal-replay"]) {
      if (!existsSync(join(root, "packages", p, "dist/index.js")))
        throw new Error(`${root}: packages/${p}/dist is not built`);
    }
  }
  return o;
}

/** What build a root holds: HEAD, uncommitted changes under packages/, and a hash of the dist files the rows load. */
function fingerprint(root) {
  const hash = createHash("sha256");
  for (const p of ["wal", "wal-codec", "wal-segment", "wal-replay"]) {
    const f = join(root, "packages", p, "dist/index.js");
    hash.update(existsSync(f) ? readFileSync(f) : Buffer.from("missing"));
  }
  const git = (args) => {
    try {
      return execFileSync("git", ["-C", root, ...args], { encoding: "utf8" }).trim();
    } catch {
      return "?";
    }
  };
  const dirty = git([
    "status",
    "--porcelain",
    "--",
    "packages/wal/src",
    "packages/wal-segment/src",
    "packages/wal-codec/src",
    "packages/wal-replay/src",
  ]);
  return {
    head: git(["rev-parse", "--short", "HEAD"]),
    dirtySources: dirty === "" ? [] : dirty.split("\n"),
    distSha256: hash.digest("hex").slice(0, 16),
  };
}

function spawnChild(job, timeoutMs) {
  return new Promise((resolvePromise) => {
    const c = fork(SELF, ["--child", JSON.stringify(job)], { stdio: ["ignore", "inherit", "pipe", "ipc"] });
    let stderr = "";
    c.stderr.on("data", (d) => {
      stderr += d.toString();
      process.stderr.write(d);
    });
    let result;
    const timer = setTimeout(() => {
      result = { ok: false, error: `timed out after ${timeoutMs} ms` };
      c.kill("SIGKILL");
    }, timeoutMs);
    c.on("message", (m) => {
      result ??= m;
    });
    c.on("exit", (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ result: result ?? { ok: false, error: `child exited with ${signal ?? code}` }, stderr });
    });
  });
}

async function runJob(job) {
  // Another engineer's build may empty a dist for a moment: a child that cannot load its modules is retried.
  for (let attempt = 1; ; attempt++) {
    const { result, stderr } = await spawnChild(job, job.limitMs * 2 + 120_000);
    if (result.ok || attempt >= 6 || !/ERR_MODULE_NOT_FOUND|Cannot find module/.test(stderr)) return result;
    process.stderr.write(`  ${job.label}: a module was missing (a package being rebuilt?); retrying in 10 s\n`);
    await new Promise((r) => setTimeout(r, 10_000));
  }
}

function spread(xs) {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, n: 0 };
  const m = s.length >> 1;
  return { median: s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2, min: s[0], max: s[s.length - 1], n: s.length };
}

const fmtN = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString("en-US") : "—");
const fmtR = (x) => (Number.isFinite(x) ? x.toFixed(3) : "—");
const fmtS = (s, f = fmtN) => (s.n > 1 ? `${f(s.median)} (${f(s.min)} – ${f(s.max)})` : f(s.median));

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const runDir = join(APP_DIR, ".tmp", "ab-commit-path", `run-${process.pid}`);
  rmSync(runDir, { recursive: true, force: true });
  mkdirSync(runDir, { recursive: true });
  const builds = [
    { key: "old", root: o.old, noWindow: false },
    { key: "new", root: o.new, noWindow: false },
    { key: "newNoWindow", root: o.new, noWindow: true },
  ];
  const before = { old: fingerprint(o.old), new: fingerprint(o.new) };
  const startedAt = new Date();
  const loads = [];
  /** samples[row][build] = [{ ops, seconds, cpuSeconds, writes, syncs, round }] */
  const samples = {};
  process.stderr.write(
    `ab-commit-path: old ${o.old} (${before.old.head}, dist ${before.old.distSha256}), new ${o.new} (${before.new.head}, dist ${before.new.distSha256}${before.new.dirtySources.length > 0 ? `, ${before.new.dirtySources.length} uncommitted source changes` : ""}); ${o.rounds} rounds, ${o.profile}; load ${loadavg()
      .map((x) => x.toFixed(2))
      .join(" ")}\n`,
  );
  try {
    for (let r = 0; r < o.rounds; r++) {
      for (const row of o.rows) {
        const def = ROWS[row];
        const size = def[o.profile];
        const present = builds.filter((b) => !b.noWindow || def.windowVariant);
        // Rotate the order of the builds from round to round.
        const order = present.map((_, i) => present[(i + r) % present.length]);
        for (const b of order) {
          const load = loadavg()[0];
          loads.push(load);
          const label = `${row}.${b.key}.r${r}`;
          const job = {
            label,
            root: b.root,
            noWindow: b.noWindow,
            row,
            dir: join(runDir, label),
            count: size.count,
            limitMs: size.limitMs,
          };
          const res = await runJob(job);
          samples[row] ??= {};
          samples[row][b.key] ??= [];
          if (!res.ok) {
            process.stderr.write(`  ${label}: FAILED ${res.error}\n`);
            continue;
          }
          samples[row][b.key].push({ ...res.value, round: r, load });
          const v = res.value;
          process.stderr.write(
            `  ${label}: ${fmtN(v.ops / v.seconds)}/s, ${fmtN(v.ops / v.cpuSeconds)}/CPU-s, ${(v.syncs / v.ops).toFixed(5)} syncs/op (load ${load.toFixed(2)})\n`,
          );
        }
      }
    }
  } finally {
    rmSync(runDir, { recursive: true, force: true });
  }
  const after = { old: fingerprint(o.old), new: fingerprint(o.new) };
  const rebuilt = ["old", "new"].filter((k) => before[k].distSha256 !== after[k].distSha256);

  // Summaries and per-round paired ratios.
  const rows = {};
  for (const row of o.rows) {
    const perBuild = {};
    for (const [key, xs] of Object.entries(samples[row] ?? {})) {
      perBuild[key] = {
        rate: spread(xs.map((x) => x.ops / x.seconds)),
        cpuRate: spread(xs.map((x) => x.ops / x.cpuSeconds)),
        syncsPerOp: spread(xs.map((x) => x.syncs / x.ops)),
        writesPerOp: spread(xs.map((x) => x.writes / x.ops)),
        samples: xs,
      };
    }
    const paired = (a, b, f) => {
      const xs = samples[row]?.[a] ?? [];
      const ys = samples[row]?.[b] ?? [];
      const out = [];
      for (const x of xs) {
        const y = ys.find((z) => z.round === x.round);
        if (y !== undefined) out.push(f(x) / f(y));
      }
      return spread(out);
    };
    const wall = (x) => x.ops / x.seconds;
    const cpu = (x) => x.ops / x.cpuSeconds;
    rows[row] = {
      title: ROWS[row].title,
      unit: ROWS[row].unit,
      builds: perBuild,
      ratios: {
        newOverOld: { wall: paired("new", "old", wall), cpu: paired("new", "old", cpu) },
        ...(ROWS[row].windowVariant
          ? {
              newOverNoWindow: { wall: paired("new", "newNoWindow", wall), cpu: paired("new", "newNoWindow", cpu) },
              noWindowOverOld: { wall: paired("newNoWindow", "old", wall), cpu: paired("newNoWindow", "old", cpu) },
            }
          : {}),
      },
    };
  }
  const report = {
    startedAt: startedAt.toISOString(),
    durationSeconds: (Date.now() - startedAt.getTime()) / 1000,
    machine: { node: process.versions.node, cpus: cpus().length, cpuModel: cpus()[0]?.model.trim() ?? "?" },
    profile: o.profile,
    rounds: o.rounds,
    load1: spread(loads),
    roots: { old: { path: o.old, ...before.old }, new: { path: o.new, ...before.new } },
    rebuiltDuringRun: rebuilt,
    rows,
  };
  const out = o.out ?? join(APP_DIR, ".tmp", "ab-commit-path", `${startedAt.toISOString().replace(/[:.]/g, "-")}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);

  const lines = [];
  lines.push(
    `# commit path, old vs new (${o.profile}, ${o.rounds} rounds, ${report.durationSeconds.toFixed(0)} s)`,
    "",
    `${report.startedAt}; Node ${report.machine.node}, ${report.machine.cpus} × ${report.machine.cpuModel}; 1-minute load average before each round: median ${report.load1.median.toFixed(2)}, ${report.load1.min.toFixed(2)} – ${report.load1.max.toFixed(2)}.`,
    `old: ${o.old} @ ${before.old.head} (dist ${before.old.distSha256}); new: ${o.new} @ ${before.new.head} (dist ${before.new.distSha256})${before.new.dirtySources.length > 0 ? `; uncommitted source changes in new: ${before.new.dirtySources.join(", ")}` : ""}.`,
    rebuilt.length > 0
      ? `**WARNING: the dist of ${rebuilt.join(" and ")} changed during the run; rerun.**`
      : "Dist files unchanged during the run.",
    "",
    "| row | build | ops/s median (min – max) | ops per CPU-s median (min – max) | writes/op | fdatasyncs/op (fs seam) |",
    "| --- | --- | ---: | ---: | ---: | ---: |",
  );
  for (const [row, r] of Object.entries(rows)) {
    for (const [key, b] of Object.entries(r.builds)) {
      lines.push(
        `| ${row} (${r.unit}) | ${key} | ${fmtS(b.rate)} | ${fmtS(b.cpuRate)} | ${b.writesPerOp.median.toFixed(5)} | ${b.syncsPerOp.median.toFixed(5)} |`,
      );
    }
  }
  lines.push("", "Per-round ratios (same round, median (min – max)); < 1 means slower:", "");
  lines.push("| row | ratio | ops/s | ops per CPU-s |", "| --- | --- | ---: | ---: |");
  for (const [row, r] of Object.entries(rows)) {
    for (const [name, q] of Object.entries(r.ratios)) {
      lines.push(`| ${row} | ${name} | ${fmtS(q.wall, fmtR)} | ${fmtS(q.cpu, fmtR)} |`);
    }
  }
  lines.push("", `JSON: ${out}`, "");
  process.stdout.write(lines.join("\n"));
}

const at = process.argv.indexOf("--child");
if (at !== -1) {
  const job = JSON.parse(process.argv[at + 1]);
  child(job).then(
    (value) => process.send({ ok: true, value }, () => process.exit(0)),
    (error) => process.send({ ok: false, error: error?.stack ?? String(error) }, () => process.exit(1)),
  );
} else {
  main().catch((error) => {
    process.stderr.write(`${error?.stack ?? String(error)}\n`);
    process.exit(1);
  });
}
