/** The command line: `[--smoke | --quick | --full] [--only <workload>] [--out <dir>] [--cpu-prof]`. */

import { join, resolve } from "node:path";
import { APP_DIR } from "./paths.js";
import { type Profile, WORKLOADS } from "./workloads.js";

export interface Options {
  readonly profile: Profile;
  readonly only: string | undefined;
  readonly out: string;
  readonly cpuProf: boolean;
  /** Measure nothing: render `latest.{md,svg}` (and the README's table) again from the `latest.json` in `out`. */
  readonly render: boolean;
}

/** Every name `--only` accepts: the workloads of `workloads.ts`, then the studies. */
const STUDY_NAMES: readonly string[] = [
  ...WORKLOADS.map((w) => w.name),
  "scaling-replay",
  "scaling-concurrency",
  "torn-tail",
  "decode-heap",
  "follow",
  "archive",
];

export function parseArgs(argv: readonly string[]): Options {
  let profile: Profile = "full";
  let only: string | undefined;
  let out: string | undefined;
  let cpuProf = false;
  let render = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") continue;
    else if (a === "--smoke") profile = "smoke";
    else if (a === "--quick") profile = "quick";
    else if (a === "--full") profile = "full";
    else if (a === "--only") only = argv[++i];
    else if (a === "--out") out = argv[++i];
    else if (a === "--cpu-prof") cpuProf = true;
    else if (a === "--render") render = true;
    else if (a === "--help" || a === "-h") {
      process.stdout.write(
        "usage: node dist/main.js [--smoke | --quick | --full] [--only <workload>] [--out <dir>] [--cpu-prof] [--render]\n" +
          `workloads: ${STUDY_NAMES.join(", ")}\n`,
      );
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  if (only !== undefined && !STUDY_NAMES.includes(only))
    throw new Error(`--only: unknown workload ${only} (${STUDY_NAMES.join(", ")})`);
  // Only a full, unfiltered run replaces the committed results; a full run of the follow group alone writes only its
  // own follow.{json,md} there.
  const defaultOut =
    profile === "full" && (only === undefined || only === "follow" || only === "archive")
      ? join(APP_DIR, "results")
      : join(APP_DIR, ".tmp", "results", profile);
  return { profile, only, out: resolve(out ?? defaultOut), cpuProf, render };
}
