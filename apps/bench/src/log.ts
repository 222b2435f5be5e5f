/** Progress goes to stderr, so that stdout carries only the rendered report. */
export function log(msg: string): void {
  process.stderr.write(`${msg}\n`);
}
