/** Command-line options of `pnpm torture` (node:util parseArgs). */

import { parseArgs } from "node:util";

export type TierChoice = "A" | "B" | "C" | "D" | "F" | "R" | "faults" | "misuse" | "bugs";

export interface CliOptions {
  readonly seed: number;
  readonly minutes: number;
  readonly tiers: readonly TierChoice[];
  readonly smoke: boolean;
  readonly long: boolean;
  readonly caseIndex: number | undefined;
  readonly json: string | undefined;
  /** Tier D: check this saved trace again (exact replay) instead of recording. */
  readonly traceFile: string | undefined;
}

export const USAGE = `pnpm torture -- [--seed N] [--minutes N] [--tier A|B|C|D|F|R|faults|misuse|bugs] [--case N] [--smoke] [--long]

  --seed N      reproduce a run exactly (default: random, printed)
  --minutes N   how much work (default 1): Tier A runs 900 cases and Tier B 50 SIGKILL cycles per minute
                (--smoke: 200 and 12), the misuse tier a fixed number of sequences plus a fixed extra per
                minute above 1; counts, never a deadline (a loaded machine takes longer, same verdict)
  --tier T      run one tier (repeat or comma-separate for several; M is short for misuse)
  --case N      with --tier: run only case N (Tier B: cycles 0..N; Tier D: trace N; Tier F: simulated case N; Tier R: case N)
  --long        Tier A enumerates sequences of up to 5 operations (default 3)
  --json FILE   also write the report to FILE
  --trace-file F  Tier D: check the trace saved in F again, exactly (a failing trace's replay command names it)`;

export function parseCli(argv: readonly string[]): CliOptions {
  const { values } = parseArgs({
    args: argv.filter((a) => a !== "--"),
    options: {
      seed: { type: "string" },
      minutes: { type: "string" },
      tier: { type: "string", multiple: true },
      case: { type: "string" },
      smoke: { type: "boolean", default: false },
      long: { type: "boolean", default: false },
      json: { type: "string" },
      "trace-file": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const number = (name: string, v: string | undefined, fallback: number) => {
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} wants a non-negative number, got "${v}"`);
    return n;
  };
  const all: TierChoice[] = ["A", "B", "C", "D", "F", "R", "faults", "misuse", "bugs"];
  const tiers = (values.tier ?? [])
    .flatMap((t) => t.split(","))
    .map((t) => {
      const name = t.trim().toLowerCase() === "m" ? "misuse" : t.trim().toLowerCase();
      const found = all.find((x) => x.toLowerCase() === name);
      if (found === undefined) throw new Error(`--tier wants one of ${all.join(", ")}, got "${t}"`);
      return found;
    });
  const caseIndex = values.case === undefined ? undefined : number("case", values.case, 0);
  if (caseIndex !== undefined && tiers.length !== 1) throw new Error("--case needs exactly one --tier");
  const traceFile = values["trace-file"];
  if (traceFile !== undefined && (tiers.length !== 1 || tiers[0] !== "D"))
    throw new Error("--trace-file needs --tier D");
  return {
    seed: Math.floor(number("seed", values.seed, Math.floor(Math.random() * 2 ** 31))),
    minutes: number("minutes", values.minutes, values.smoke ? 25 / 60 : 1),
    tiers: tiers.length === 0 ? all : tiers,
    smoke: values.smoke,
    long: values.long,
    caseIndex,
    json: values.json,
    traceFile,
  };
}
