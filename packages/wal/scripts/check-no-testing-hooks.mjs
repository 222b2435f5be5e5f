// The published build must carry no planted bug and call no failpoint: every such branch is guarded by the
// testing flag, which the build defines false so the bundler drops it. Fails when any of their names survived.
import { readFileSync } from "node:fs";

// Every name of the PlantedBug union, read from its source so that a new bug is checked without editing this list.
// Comments go first (a member's TSDoc may hold a ";"); what is left of the union must be its names and nothing else,
// so a union this parse cannot read fails the check instead of checking fewer names.
const hooks = readFileSync(new URL("../src/testing-hooks.ts", import.meta.url), "utf8")
  .replace(/\/\*[\s\S]*?\*\//g, "")
  .replace(/\/\/[^\n]*/g, "");
const head = "export type PlantedBug =";
const union = hooks.slice(hooks.indexOf(head) + head.length, hooks.indexOf(";", hooks.indexOf(head)));
const bugs = [...union.matchAll(/\|\s*"([a-z0-9-]+)"/g)].map((m) => m[1]);
if (!hooks.includes(head) || bugs.length === 0 || union.replace(/\|\s*"[a-z0-9-]+"/g, "").trim() !== "") {
  console.error('cannot read the PlantedBug union of src/testing-hooks.ts (only | "name" members are understood)');
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
