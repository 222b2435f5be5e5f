/**
 * The handle's in-process change feed (`Wal.follow`): followers in this process, woken by the handle when
 * durability advances, a segment rotates or is truncated, or the handle ends, and fed from memory (the newest
 * `commitTx` transactions) while they keep up.
 */

import { checkOptionNames, checkSignal, optionOr, type PayloadCodec, shownValue, WalError } from "@lora/wal-codec";
import { CommitFollower, type Follower } from "@lora/wal-replay";
import type { WalFileSystem } from "@lora/wal-segment";
import { RecentCommits } from "./recent-commits.js";
import { WAL_FOLLOW_OPTION_NAMES, type WalFollowOptions } from "./wal-options.js";

/**
 * What `Wal.follow` returns: `followDir`'s follower without a slot to confirm (an async iterable of committed
 * transactions, with `position` and `restartLsn`, the resume token of the last one).
 */
export type WalFollower<E> = Omit<Follower<E>, "confirm">;

/** The handle's progress the feed reads (the commit pipeline's). */
export interface FeedProgress {
  /** The highest LSN covered by an fdatasync. */
  readonly syncedLsn: number;
  /** The highest LSN handed to the OS. */
  readonly writtenLsn: number;
}

/** The followers of one handle, and what wakes them. */
export class InProcessFeed<E> {
  readonly #dir: string;
  readonly #fs: WalFileSystem;
  readonly #codec: PayloadCodec<E>;
  readonly #progress: FeedProgress;
  /** The highest LSN appended (written or not). */
  readonly #appendedLsn: () => number;
  /** The first LSN this handle writes: a transaction begun below it and left open can never commit. */
  readonly #sessionStartLsn: number;
  /**
   * Wakes the in-process followers (`follow`) waiting for a change. Each removes itself when its wait ends any other
   * way (its poll timer, its signal): a follower of an idle log looks again every second, and is never woken.
   */
  #followWake = new Set<() => void>();
  /** Counts wake-ups, so a follower that was busy reading when one came does not sleep through it. */
  #followEpoch = 0;
  /**
   * The newest `commitTx` transactions, kept while in-process followers exist (they take them from memory). The
   * handle adds each `commitTx` transaction here (a plain field: the commit path reads it without a call).
   */
  recent: RecentCommits | undefined;
  #memoryFollowers = 0;
  /** Closed with its final flush done, or poisoned: followers deliver what is durable and end. */
  #followEnded = false;

  constructor(
    dir: string,
    fs: WalFileSystem,
    codec: PayloadCodec<E>,
    progress: FeedProgress,
    appendedLsn: () => number,
    sessionStartLsn: number,
  ) {
    this.#sessionStartLsn = sessionStartLsn;
    this.#dir = dir;
    this.#fs = fs;
    this.#codec = codec;
    this.#progress = progress;
    this.#appendedLsn = appendedLsn;
  }

  /** A follower of the committed transactions after a resume token (see `Wal.follow`). */
  follow(given: WalFollowOptions): WalFollower<E> {
    // Each option read once: what is checked below is what the follower uses.
    const options = checkOptionNames(given, WAL_FOLLOW_OPTION_NAMES, "wal.follow");
    const after = optionOr(options.after, 0);
    if (!Number.isSafeInteger(after) || after < 0) {
      throw new WalError("WAL_INVALID_OPTION", `after must be a non-negative safe integer, got ${shownValue(after)}`);
    }
    const durability = optionOr(options.durability, "durable");
    if (durability !== "durable" && durability !== "written") {
      throw new WalError(
        "WAL_INVALID_OPTION",
        `durability must be "durable" or "written", got ${shownValue(durability)}`,
      );
    }
    checkSignal(options.signal);
    // The wake-ups this follower has seen: a change that came while it was reading (nobody waiting) must not be
    // lost, so `changed` returns at once when the count moved since its last look at durability.
    let seen = this.#followEpoch;
    this.recent ??= new RecentCommits();
    this.#memoryFollowers++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      if (--this.#memoryFollowers === 0) this.recent = undefined;
    };
    try {
      return new CommitFollower<E>({
        dir: this.#dir,
        fs: this.#fs,
        codec: this.#codec,
        after,
        ...(options.restartLsn === undefined ? {} : { restartLsn: options.restartLsn }),
        durability,
        source: {
          durability: () => {
            seen = this.#followEpoch;
            return Promise.resolve({
              session: 1,
              // fsync coverage, in every mode (in `none`, durableLsn() counts writes: a crash could take them back).
              durableLsn: this.#progress.syncedLsn,
              closed: this.#followEnded,
              sessionStartLsn: this.#sessionStartLsn,
            });
          },
          changed: (signal) => (seen !== this.#followEpoch ? Promise.resolve() : this.#followerWait(signal)),
          ended: () => this.#followEnded,
        },
        memory: {
          take: (position, from, level, max) => {
            seen = this.#followEpoch;
            const upTo = level === "durable" ? this.#progress.syncedLsn : this.#progress.writtenLsn;
            const range = { upTo, after: from, appendedLsn: this.#appendedLsn() };
            return this.recent?.after(position, range, max, this.#codec) ?? null;
          },
          release,
        },
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      });
    } catch (error) {
      release(); // a refused follow (a restartLsn that does not fit after) leaves no memory follower behind
      throw error;
    }
  }

  /** Resolves at the next durability advance, rotation, truncation or close (or after a second, or on abort). */
  #followerWait(signal: AbortSignal): Promise<void> {
    if (signal.aborted || this.#followEnded) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        this.#followWake.delete(done);
        resolve();
      };
      const timer = setTimeout(done, 1000);
      signal.addEventListener("abort", done, { once: true });
      this.#followWake.add(done);
    });
  }

  /** Wake every waiting follower (durability advanced, a segment rotated or was truncated). */
  wake(): void {
    this.#followEpoch++;
    if (this.#followWake.size === 0) return;
    const wake = this.#followWake;
    this.#followWake = new Set();
    for (const w of wake) w();
  }

  /** How many followers wait for a wake-up now. */
  get waiting(): number {
    return this.#followWake.size;
  }

  /** The handle closed (its final flush done) or was poisoned: followers deliver what is durable and end. */
  end(): void {
    this.#followEnded = true;
    this.wake();
  }
}
