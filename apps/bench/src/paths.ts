/** Where the bench keeps its scratch space, its profiles and its committed results. */

import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** `apps/bench`: this module sits one level below it both as source (`src/`) and bundled (`dist/main.js`). */
export const APP_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** The built entry point every child process runs (`--child <job>`); tsup bundles the whole app into it. */
export const ENTRY = join(APP_DIR, "dist", "main.js");

const TMP = join(APP_DIR, ".tmp");

/** This run's scratch space (datasets, each round's directory); removed when the run ends. */
export const RUN_ROOT = join(TMP, `run-${process.pid}`);

/** Where `--cpu-prof` writes the children's profiles. */
export const PROFILE_DIR = join(TMP, "profiles");
