/**
 * How many turns of the event loop (`setImmediate` callbacks, one after another) ran while `work` was pending: 0
 * when it settled without giving the loop back, e.g. a long synchronous computation before its first `await`.
 * Resolves with the count and whether `work` rejected, never rejects itself.
 */
export async function eventLoopTurnsDuring(
  work: Promise<unknown>,
): Promise<{ readonly turns: number; readonly rejected: unknown }> {
  let turns = 0;
  let settled = false;
  const tick = () => {
    if (settled) return;
    turns++;
    setImmediate(tick);
  };
  setImmediate(tick);
  let rejected: unknown;
  try {
    await work;
  } catch (error) {
    rejected = error ?? new Error("rejected with nothing");
  }
  settled = true;
  return { turns, rejected };
}

/**
 * Whether `work` has settled (resolved or rejected) within `turns` turns of the event loop (`setImmediate` callbacks,
 * one after another). A bound by count, not by time: a test that waits on work which a broken implementation never
 * settles fails at once instead of running into the test timeout. Never rejects.
 */
export async function settlesWithinTurns(work: Promise<unknown>, turns: number): Promise<boolean> {
  let settled = false;
  const done = (): void => {
    settled = true;
  };
  work.then(done, done);
  for (let i = 0; i < turns && !settled; i++) await new Promise<void>((resolve) => setImmediate(resolve));
  return settled;
}
