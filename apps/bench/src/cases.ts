/**
 * Every measured case by name, as the workloads (`workloads.ts`) and the child processes (`run-child.ts`) name them.
 * Each family of cases lives in its own module; what a case is, in `case-types.ts`.
 */

import type { CaseFn } from "./case-types.js";
import { LEVEL_CASES } from "./level-cases.js";
import { LMDB_CASES } from "./lmdb-cases.js";
import { LORA_CASES } from "./lora-cases.js";
import { LORADB_CASES } from "./loradb-cases.js";
import { RAW_COMMIT_CASES } from "./raw-commit-cases.js";
import { RAW_READ_CASES } from "./raw-read-cases.js";
import { RAW_WRITE_CASES } from "./raw-write-cases.js";
import { SQLITE_CASES } from "./sqlite-cases.js";

export const CASES: Readonly<Record<string, CaseFn>> = {
  ...LORA_CASES,
  ...RAW_WRITE_CASES,
  ...RAW_COMMIT_CASES,
  ...RAW_READ_CASES,
  ...SQLITE_CASES,
  ...LEVEL_CASES,
  ...LMDB_CASES,
  ...LORADB_CASES,
};
