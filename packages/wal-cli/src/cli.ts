#!/usr/bin/env node
/** The `lora-wal` executable: runs {@link main} on the process's arguments and streams. */

import { main } from "./main.js";

// `lora-wal dump … | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(0);
  throw error;
});

main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env }).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`lora-wal: ${String(error)}\n`);
    process.exitCode = 4;
  },
);
