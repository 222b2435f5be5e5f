/**
 * What a study group (`follow-study.ts`, `archive-study.ts`) gets from the orchestrator, and how it runs its
 * children: a child that fails is recorded as an error of the group and its figure left out, never the group ended.
 */

import { loadavg } from "node:os";
import type { Profile } from "./workloads.js";

/** 1-, 5- and 15-minute load averages. */
export type LoadAverages = readonly [number, number, number];

/** What the orchestrator (`group-contexts.ts`) lends a group whose children run jobs of type `J`. */
export interface StudyContext<J> {
  readonly profile: Profile;
  /** Scratch space for the children (removed with the run). */
  readonly workRoot: string;
  /** Run one child; rejects with the child's error. */
  spawn(job: J, label: string, timeoutMs: number): Promise<unknown>;
  /** The prepared `commitTx`-layout log of at least `bytes` (shared with the other read workloads of the run). */
  dataset(
    bytes: number,
  ): Promise<{ readonly dir: string; readonly meta: { transactions: number; records: number; bytes: number } }>;
  log(msg: string): void;
}

/**
 * The machine's load over a group: at its start and end (in the parent process), and the lowest and highest 1-minute
 * figure seen there or at any child's start or end.
 */
export interface StudyLoad {
  readonly start: LoadAverages;
  readonly end: LoadAverages;
  readonly min1: number;
  readonly max1: number;
}

/** A group's children, the errors they ended with and the load they saw. */
export interface StudyChildren<J> {
  /** Run one child and log how long it took; a failure is logged and recorded, and gives `undefined`. */
  run<T>(job: J, label: string, timeoutMs: number): Promise<T | undefined>;
  /** One line per failed child (or failed part of the group), in the order they happened. */
  readonly errors: string[];
  /** The load now, and the load over every child run so far. */
  finish(): StudyLoad;
}

/** Start a group: the load is sampled now, and then at each child's start and end (as the child reports it). */
export function studyChildren<J>(ctx: StudyContext<J>): StudyChildren<J> {
  const start = loadavg() as unknown as LoadAverages;
  const loads: number[] = [start[0]];
  const errors: string[] = [];
  const run = async <T>(job: J, label: string, timeoutMs: number): Promise<T | undefined> => {
    const started = performance.now();
    try {
      const r = (await ctx.spawn(job, label, timeoutMs)) as T & { load?: { start: LoadAverages; end: LoadAverages } };
      if (r.load !== undefined) loads.push(r.load.start[0], r.load.end[0]);
      ctx.log(`  ${label}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
      return r;
    } catch (error) {
      const text = `${label}: ${String(error).split("\n")[0]}`;
      errors.push(text);
      ctx.log(`  ${text}`);
      return undefined;
    }
  };
  const finish = (): StudyLoad => {
    const end = loadavg() as unknown as LoadAverages;
    loads.push(end[0]);
    return { start, end, min1: Math.min(...loads), max1: Math.max(...loads) };
  };
  return { run, errors, finish };
}
