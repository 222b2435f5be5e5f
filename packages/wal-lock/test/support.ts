/** Test helpers for the lock tests. */

/**
 * What `run` rejected with. A test that expects a refusal must not pass when the call succeeds, so a fulfilled
 * promise is itself a failure here.
 */
export async function rejection(run: () => Promise<unknown>): Promise<unknown> {
  let value: unknown;
  try {
    value = await run();
  } catch (error) {
    return error;
  }
  throw new Error(`expected a rejection, the call fulfilled with ${String(value)}`);
}
