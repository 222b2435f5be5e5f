/** How a case times itself: wall clock, CPU time of the whole process, and the closed loop of awaiting writers. */

import type { CaseParams } from "./case-types.js";

export const now = (): number => performance.now();

/** CPU seconds (user + system, all threads) since `start`. */
export function cpuSince(start: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(start);
  return (u.user + u.system) / 1e6;
}

/** Run `concurrency` closed-loop writers until `count` operations were issued or time ran out. */
export async function closedLoop(
  p: CaseParams,
  op: (i: number) => Promise<unknown>,
): Promise<{ ops: number; seconds: number; cpuSeconds: number }> {
  let issued = 0;
  const cpu0 = process.cpuUsage();
  const t0 = now();
  const deadline = t0 + p.timeLimitMs;
  const worker = async (): Promise<void> => {
    while (issued < p.count && now() < deadline) {
      const i = issued++;
      await op(i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, p.concurrency) }, worker));
  return { ops: issued, seconds: (now() - t0) / 1000, cpuSeconds: cpuSince(cpu0) };
}
