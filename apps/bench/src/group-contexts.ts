/**
 * What the change-feed and archiving groups borrow from the orchestrator: child processes running the group's own
 * kind of job, and the run's shared datasets.
 */

import { join } from "node:path";
import type { ArchiveJob } from "./archive.js";
import { type ChildOk, type Job, spawnJob } from "./child-protocol.js";
import type { Options } from "./cli-args.js";
import { dataset } from "./dataset-cache.js";
import type { FollowJob } from "./follow.js";
import { log } from "./log.js";
import { RUN_ROOT } from "./paths.js";
import type { StudyContext } from "./study-context.js";

/** A group's context: its jobs wrapped by `toJob`; a child whose result lacks `resultOf`'s part has failed. */
function groupContext<J>(opts: Options, toJob: (job: J) => Job, resultOf: (r: ChildOk) => unknown): StudyContext<J> {
  return {
    profile: opts.profile,
    workRoot: join(RUN_ROOT, "work"),
    spawn: async (job, label, timeoutMs) => {
      const r = await spawnJob(toJob(job), opts, label, timeoutMs);
      const result = r.ok ? resultOf(r) : undefined;
      if (!r.ok || result === undefined) throw new Error(r.ok ? "no result" : r.error);
      return result;
    },
    dataset: (bytes) => dataset({ kind: "walLog", bytes }, opts),
    log,
  };
}

export function followContext(opts: Options): StudyContext<FollowJob> {
  return groupContext<FollowJob>(
    opts,
    (job) => ({ kind: "follow", job }),
    (r) => r.follow,
  );
}

export function archiveContext(opts: Options): StudyContext<ArchiveJob> {
  return groupContext<ArchiveJob>(
    opts,
    (job) => ({ kind: "archive", job }),
    (r) => r.archive,
  );
}
