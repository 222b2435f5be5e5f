/**
 * Terminal niceties, on only when a person is watching: ANSI colours when the stream is a TTY and `NO_COLOR` is
 * unset (https://no-color.org), and a progress bar on stderr when stderr is a TTY. Pipes and files get plain text.
 */

/** A writable text stream: `process.stdout`, or a test double. */
export interface TextStream {
  write(chunk: string): unknown;
  readonly isTTY?: boolean | undefined;
  once?(event: "drain", listener: () => void): unknown;
}

export interface Style {
  readonly enabled: boolean;
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  green(s: string): string;
  cyan(s: string): string;
}

/** Whether to colour `stream`. */
export function colourEnabled(stream: TextStream, env: Readonly<Record<string, string | undefined>>): boolean {
  return stream.isTTY === true && (env.NO_COLOR === undefined || env.NO_COLOR === "") && env.TERM !== "dumb";
}

/** ANSI styling, or identity functions when disabled. */
export function createStyle(enabled: boolean): Style {
  const sgr = (open: number, close: number) => (s: string) => (enabled ? `\u001b[${open}m${s}\u001b[${close}m` : s);
  return {
    enabled,
    bold: sgr(1, 22),
    dim: sgr(2, 22),
    red: sgr(31, 39),
    yellow: sgr(33, 39),
    green: sgr(32, 39),
    cyan: sgr(36, 39),
  };
}

/** A byte-count progress bar. */
export interface Progress {
  /** Count `bytes` more as done. */
  add(bytes: number): void;
  /**
   * Set how much is done of how much (a source that reports its own progress, as replay's `onProgress`; or a
   * command starting again from a new listing, at 0).
   */
  set(done: number, total: number): void;
  /** Erase the bar. */
  done(): void;
}

const NO_PROGRESS: Progress = {
  add: () => undefined,
  set: () => undefined,
  done: () => undefined,
};
const REDRAW_MS = 100;
const BAR_WIDTH = 30;

/**
 * A progress bar on `stream` (stderr), redrawn at most every 100 ms; a no-op unless `enabled`. Only drawn for
 * inputs worth waiting for (the first redraw happens after 100 ms).
 */
export function createProgress(stream: TextStream, enabled: boolean, label: string, total: number): Progress {
  if (!enabled) return NO_PROGRESS;
  let done = 0;
  let all = total;
  let drawn = false;
  let last = Date.now();
  const draw = () => {
    const ratio = all === 0 ? 1 : Math.min(1, done / all);
    const filled = Math.round(ratio * BAR_WIDTH);
    const pct = String(Math.floor(ratio * 100)).padStart(3);
    stream.write(`\r${label} [${"#".repeat(filled)}${" ".repeat(BAR_WIDTH - filled)}] ${pct}%`);
    drawn = true;
  };
  return {
    add(bytes) {
      done += bytes;
      const now = Date.now();
      if (now - last >= REDRAW_MS) {
        last = now;
        draw();
      }
    },
    set(bytes, total) {
      all = total;
      done = 0;
      this.add(bytes);
    },
    done() {
      if (drawn) stream.write("\r\u001b[2K");
      drawn = false;
    },
  };
}

/** Buffered line output that respects back-pressure (a dump of a big log piped into `less`). */
export class LineWriter {
  readonly #stream: TextStream;
  #buffer = "";

  constructor(stream: TextStream) {
    this.#stream = stream;
  }

  /** Queue one line; call {@link LineWriter.drain} now and then. */
  line(text: string): void {
    this.#buffer += `${text}\n`;
  }

  /** Write the queue out when it is big, waiting for the stream to drain if it asks to. */
  async drain(): Promise<void> {
    if (this.#buffer.length >= 1 << 16) await this.flush();
  }

  /** Write everything queued. */
  async flush(): Promise<void> {
    if (this.#buffer.length === 0) return;
    const chunk = this.#buffer;
    this.#buffer = "";
    const ok = this.#stream.write(chunk);
    const once = this.#stream.once;
    if (ok === false && once !== undefined) {
      await new Promise<void>((resolve) => {
        once.call(this.#stream, "drain", resolve);
      });
    }
  }
}
