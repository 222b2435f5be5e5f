/** A report that could not be written out is no success: a failing stdout ends the command with exit 4, not 0. */

import { describe, expect, it } from "vitest";
import { main } from "../src/main.js";
import { useJsonWal } from "./helpers.js";

describe("a stdout whose write throws", () => {
  let dir: string;
  useJsonWal("lora-wal-stdout-failure", { transactions: 3 }, (wal) => {
    dir = wal.dir;
  });

  it("makes inspect, verify and dump of a clean log exit 4 with the error on stderr", async () => {
    for (const command of ["inspect", "verify", "dump"]) {
      let stderr = "";
      let writes = 0;
      const code = await main([command, dir, "--codec", "json"], {
        stdout: {
          write: () => {
            writes++;
            throw new Error("write EPIPE");
          },
          isTTY: false,
        },
        stderr: {
          write: (s: string) => {
            stderr += s;
            return true;
          },
          isTTY: false,
        },
        env: {},
      });
      expect(writes, command).toBeGreaterThan(0);
      expect(code, command).toBe(4);
      expect(stderr, command).toContain("write EPIPE");
    }
  });
});
