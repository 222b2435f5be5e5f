/**
 * Whether tier D can run here: it traces the built writer (dist/trace-child.js, which imports the built packages)
 * under strace. `pnpm test` builds first; a bare `vitest run` without the build, or a machine without strace, skips
 * the tests that need it (`pnpm torture` runs tier D in any case).
 */

import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureStrace } from "./tier-d.js";

const here = dirname(fileURLToPath(import.meta.url));

/** True when the built writer and strace are both there. */
export const tierDReady: boolean =
  existsSync(join(here, "..", "dist", "trace-child.js")) &&
  existsSync(join(here, "..", "..", "..", "packages", "wal", "dist", "index.js")) &&
  ensureStrace().path !== null;
