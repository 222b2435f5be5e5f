/**
 * Tier D, step 1: run the writer (dist/trace-child.js) under `strace -f` and keep the trace. Strings are dumped in
 * hex (`-xx`) up to 8 MiB each (`-s`), so a write's bytes come whole (the `.broken` copy, large flushes); a longer
 * one is cut and counted by the parser (`truncatedWrites`, an error).
 */

import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { PlantedBug } from "@lora/wal/testing";
import type { SeamBug, TraceSyncMode, TraceWorkload } from "./trace-workload.js";

const TRACED =
  "openat,open,write,pwrite64,writev,pwritev,pwritev2,fsync,fdatasync,sync_file_range,ftruncate,fallocate,copy_file_range,rename,renameat,renameat2,unlink,unlinkat,mkdir,mkdirat,close,dup,dup2,dup3";

/** strace's `-s`: the longest string argument dumped whole. */
export const STRACE_STRING_BYTES = 8 * 1024 * 1024;

let straceChecked: string | null | undefined;
/** strace stops the writer only on the traced calls (a seccomp filter): about 2.5 times faster under load. */
let seccomp = false;

/** The strace binary, installing it with apt-get when missing; null (and why) when it cannot be had. */
export function ensureStrace(): { path: string | null; why: string } {
  const find = () => {
    const r = spawnSync("sh", ["-c", "command -v strace"], { encoding: "utf8" });
    return r.status === 0 ? r.stdout.trim() : null;
  };
  if (straceChecked !== undefined)
    return { path: straceChecked, why: straceChecked === null ? "strace not available" : "" };
  let path = find();
  if (path === null) {
    spawnSync("sh", ["-c", "(apt-get update && apt-get install -y strace) >/dev/null 2>&1"], { stdio: "ignore" });
    path = find();
  }
  if (path !== null) {
    // ptrace may be forbidden (containers without CAP_SYS_PTRACE): one trial run decides.
    const probe = spawnSync(path, ["-f", "-o", "/dev/null", "true"], { stdio: "ignore" });
    if (probe.status !== 0) path = null;
    else {
      const filter = ["--seccomp-bpf", "-f", "-e", "trace=openat", "-o", "/dev/null", "true"];
      seccomp = spawnSync(path, filter, { stdio: "ignore" }).status === 0;
    }
  }
  straceChecked = path;
  return { path, why: path === null ? "strace is missing and could not be installed (or ptrace is refused)" : "" };
}

function childScript(): string {
  // Built: dist/trace-child.js next to this file. From the sources (vitest): the build's copy.
  const here = join(dirname(fileURLToPath(import.meta.url)), "trace-child.js");
  if (existsSync(here)) return here;
  return join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "trace-child.js");
}

/** Whether the traced writer is built (vitest runs the sources; tier D needs the build's dist/trace-child.js). */
export function traceChildBuilt(): boolean {
  return existsSync(childScript());
}

export interface TraceRun {
  readonly workload: TraceWorkload;
  readonly mode: TraceSyncMode;
  readonly commits: number;
  readonly bug: SeamBug | "none";
  /** A planted bug of the handle switched on in the writer. */
  readonly planted?: PlantedBug;
}

/** The writer's directory under `root` (the kv-store's holds the log in `wal/`). */
export const writerDir = (root: string, workload: TraceWorkload) => join(root, workload === "kv" ? "kv" : "wal");

/** Records one writer under strace in `root`; the trace, and the writer's exit status (0 when it finished). */
export function recordTrace(strace: string, root: string, run: TraceRun): { trace: string; status: number | null } {
  const out = join(root, "trace");
  const r = spawnSync(
    strace,
    [
      ...(seccomp ? ["--seccomp-bpf"] : []),
      "-f",
      "-ttt",
      "-xx",
      "-s",
      String(STRACE_STRING_BYTES),
      "-e",
      "abbrev=none",
      "-e",
      `trace=${TRACED}`,
      "-o",
      out,
      process.execPath,
      childScript(),
      "--dir",
      writerDir(root, run.workload),
      "--workload",
      run.workload,
      "--sync-mode",
      run.mode,
      "--ack",
      join(root, "acks"),
      "--commits",
      String(run.commits),
      "--bug",
      run.bug,
      "--planted",
      run.planted ?? "none",
    ],
    { stdio: "ignore" },
  );
  return { trace: existsSync(out) ? readFileSync(out, "utf8") : "", status: r.status };
}
