// The published build must carry no planted bug and call no failpoint: every such branch is guarded by the
// testing flag, which the build defines false so the bundler drops it. Fails when any of their names survived.
import { readFileSync } from "node:fs";

// Every name of the PlantedBug union, read from its source so that a new bug is checked without editing this list.
const hooks = readFileSync(new URL("../src/testing-hooks.ts", import.meta.url), "utf8");
const union = hooks.slice(
  hooks.indexOf("export type PlantedBug ="),
  hooks.indexOf(";", hooks.indexOf("export type PlantedBug =")),
);
const bugs = [...union.matchAll(/\|\s*"([a-z0-9-]+)"/g)].map((m) => m[1]);
if (bugs.length < 10) {
  console.error(`found only ${bugs.length} planted bug names in src/testing-hooks.ts: has the PlantedBug union moved?`);
  process.exit(1);
}
const failpoints = /"(?:lock|commit|group|rotate|truncate|recovery)\.(?:before|after)[A-Za-z]+"/;
const code = readFileSync(new URL("../dist/index.js", import.meta.url), "utf8");
const found = bugs.filter((b) => code.includes(`"${b}"`));
const fp = code.match(failpoints);
if (found.length > 0 || fp !== null || code.includes("__LORA_WAL_TESTING__")) {
  console.error(`dist/index.js still carries testing hooks: ${[...found, ...(fp ?? [])].join(", ") || "the flag"}`);
  process.exit(1);
}
console.log(`dist/index.js: none of the ${bugs.length} planted bugs, no failpoint, no testing flag`);
