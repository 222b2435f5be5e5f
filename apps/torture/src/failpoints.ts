/**
 * `WAL_FAILPOINTS` for Tier B children, gofail-style: `name=term;name=term`, where a term is `N*kill` (kill at
 * the N-th time the point is reached) or `P%kill` (kill with probability P% each time, seeded), and `off`.
 * `kill` is a synchronous self-SIGKILL: the next statement never runs (docs/crash-testing.md, 'Failpoints').
 */

import type { Failpoint } from "@lora/wal/testing";
import { rng } from "./prng.js";

type Term = { readonly kind: "nth"; readonly n: number } | { readonly kind: "pct"; readonly p: number };

export function parseFailpoints(spec: string | undefined): Map<string, Term> {
  const out = new Map<string, Term>();
  for (const part of (spec ?? "").split(";")) {
    const entry = part.trim();
    if (entry === "") continue;
    const m = /^([\w.]+)=(?:(\d+)\*kill|(\d+(?:\.\d+)?)%kill|off)$/.exec(entry);
    if (m === null) throw new Error(`bad WAL_FAILPOINTS term "${entry}" (want name=N*kill, name=P%kill or name=off)`);
    const [, name, n, p] = m;
    if (n !== undefined) out.set(name as string, { kind: "nth", n: Number(n) });
    else if (p !== undefined) out.set(name as string, { kind: "pct", p: Number(p) });
  }
  return out;
}

/** A failpoint function for `withTestingHooks(options, { failpoint })`; `onKill` runs just before the SIGKILL. */
export function failpointFrom(spec: string | undefined, seed: number, onKill: (name: string) => void): Failpoint {
  const terms = parseFailpoints(spec);
  if (terms.size === 0) return () => undefined;
  const hits = new Map<string, number>();
  const next = rng(seed);
  return (name) => {
    const term = terms.get(name);
    if (term === undefined) return;
    const hit = (hits.get(name) ?? 0) + 1;
    hits.set(name, hit);
    if (term.kind === "nth" ? hit === term.n : next() * 100 < term.p) {
      onKill(name);
      process.kill(process.pid, "SIGKILL");
    }
  };
}
