// The published build must carry no planted bug and call no failpoint: every such branch is guarded by the
// testing flag, which the build defines false so the bundler drops it. Fails when any of their names survived.
import { readFileSync } from "node:fs";

const bugs = [
  "ack-before-fsync",
  "truncate-on-any-crc-error",
  "skip-dir-fsync-on-create",
  "retry-fsync-after-eio",
  "next-lsn-from-max-only",
  "rotate-inside-transaction",
  "fence-off-by-one",
  "drop-pending-on-close",
  "accept-unknown-tx",
  "unchecked-checkpoint-fence",
  "double-batch-after-recovery",
  "durable-event-one-short",
];
const failpoints = /"(?:lock|commit|group|rotate|truncate|recovery)\.(?:before|after)[A-Za-z]+"/;
const code = readFileSync(new URL("../dist/index.js", import.meta.url), "utf8");
const found = bugs.filter((b) => code.includes(`"${b}"`));
const fp = code.match(failpoints);
if (found.length > 0 || fp !== null || code.includes("__LORA_WAL_TESTING__")) {
  console.error(`dist/index.js still carries testing hooks: ${[...found, ...(fp ?? [])].join(", ") || "the flag"}`);
  process.exit(1);
}
console.log("dist/index.js: no planted bug, no failpoint, no testing flag");
