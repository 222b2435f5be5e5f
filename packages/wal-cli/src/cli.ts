#!/usr/bin/env node
/** The `lora-wal` executable: runs {@link main} on the process's arguments and streams. */

import { errnoOf } from "@lora/wal-codec";
import { main } from "./main.js";

// `lora-wal dump … | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (errnoOf(error) === "EPIPE") process.exit(0);
  throw error;
});

const SIGNALS = ["SIGINT", "SIGTERM"] as const;

/**
 * A command that runs until stopped (`follow`) subscribes here: the first SIGINT or SIGTERM calls it, so it can
 * stop cleanly and flush. The handlers are installed only while it is subscribed and removed on the first signal,
 * so every other command, and a second Ctrl-C, keep Node's default (the process ends).
 */
function interrupts(listener: () => void): () => void {
  const onSignal = () => {
    unsubscribe();
    listener();
  };
  const unsubscribe = () => {
    for (const signal of SIGNALS) process.off(signal, onSignal);
  };
  for (const signal of SIGNALS) process.on(signal, onSignal);
  return unsubscribe;
}

main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, interrupts }).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`lora-wal: ${String(error)}\n`);
    process.exitCode = 4;
  },
);
