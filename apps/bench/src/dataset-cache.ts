/**
 * The datasets of a run, prepared once each in a child process and shared read-only by every workload that reads
 * the same one; a study that is done with a large one drops it to free the disk.
 */

import { rmSync } from "node:fs";
import { join } from "node:path";
import { spawnJob } from "./child-protocol.js";
import type { Options } from "./cli-args.js";
import { type DatasetMeta, readMeta } from "./datasets.js";
import { log } from "./log.js";
import { RUN_ROOT } from "./paths.js";
import type { DatasetSpec } from "./workloads.js";

const datasetCache = new Map<string, { dir: string; meta: DatasetMeta }>();

/** The dataset of `spec`, prepared in a child the first time a run asks for it. */
export async function dataset(spec: DatasetSpec, opts: Options): Promise<{ dir: string; meta: DatasetMeta }> {
  const key =
    spec.kind === "walLog"
      ? `wal-${spec.bytes}${spec.eventBytes === undefined ? "" : `-e${spec.eventBytes}`}`
      : `loradb-${spec.nodes}`;
  const cached = datasetCache.get(key);
  if (cached !== undefined) return cached;
  const dir = join(RUN_ROOT, "data", key);
  const t0 = performance.now();
  const r = await spawnJob({ kind: "dataset", spec, dataDir: dir }, opts, `dataset-${key}`, 30 * 60_000);
  if (!r.ok || r.meta === undefined) throw new Error(`dataset ${key}: ${r.ok ? "no meta" : r.error}`);
  log(
    `  dataset ${key}: ${r.meta.records} records, ${(r.meta.bytes / 2 ** 20).toFixed(1)} MiB (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
  );
  const entry = { dir, meta: await readMeta(dir) };
  datasetCache.set(key, entry);
  return entry;
}

/** Remove a dataset from the disk and the cache (a later request prepares it again). */
export function dropDataset(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  rmSync(`${dir}.json`, { force: true });
  for (const [k, v] of datasetCache) if (v.dir === dir) datasetCache.delete(k);
}
