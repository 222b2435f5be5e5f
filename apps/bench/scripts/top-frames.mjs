#!/usr/bin/env node
// Summarise a V8 .cpuprofile: top frames by self time and by inclusive time.
// usage: node scripts/top-frames.mjs <file.cpuprofile> [n]
import { readFileSync } from "node:fs";

const [file, nArg] = process.argv.slice(2);
if (!file) {
  console.error("usage: top-frames.mjs <file.cpuprofile> [n]");
  process.exit(2);
}
const n = Number(nArg ?? 25);
const prof = JSON.parse(readFileSync(file, "utf8"));
const byId = new Map(prof.nodes.map((node) => [node.id, node]));
const self = new Map();
const dt = prof.timeDeltas;
for (let i = 0; i < prof.samples.length; i++) {
  self.set(prof.samples[i], (self.get(prof.samples[i]) ?? 0) + (dt[i] ?? 0));
}
const parent = new Map();
for (const node of prof.nodes) for (const c of node.children ?? []) parent.set(c, node.id);
const name = (node) => {
  const f = node.callFrame;
  const url = f.url
    .replace(/^.*node_modules\/\.pnpm\/[^/]+\/node_modules\//, "")
    .replace(/^file:\/\/.*\/(packages|apps)\//, "$1/");
  return `${f.functionName || "(anonymous)"} ${url ? `${url}:${f.lineNumber + 1}` : ""}`.trim();
};
const selfBy = new Map();
const inclBy = new Map();
let total = 0;
for (const [id, t] of self) {
  total += t;
  const key = name(byId.get(id));
  selfBy.set(key, (selfBy.get(key) ?? 0) + t);
  const seen = new Set();
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const k = name(byId.get(cur));
    if (seen.has(k)) continue;
    seen.add(k);
    inclBy.set(k, (inclBy.get(k) ?? 0) + t);
  }
}
const pct = (t) => `${((100 * t) / total).toFixed(1).padStart(5)}%`;
console.log(`total ${(total / 1000).toFixed(0)} ms sampled`);
console.log("\nself time:");
for (const [k, t] of [...selfBy].sort((a, b) => b[1] - a[1]).slice(0, n)) console.log(`${pct(t)}  ${k}`);
console.log("\ninclusive time:");
for (const [k, t] of [...inclBy].sort((a, b) => b[1] - a[1]).slice(0, n)) console.log(`${pct(t)}  ${k}`);
