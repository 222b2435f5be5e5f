import { SimFS } from "@lora/wal-segment/testing";
import { expect, test } from "vitest";
import { PassThroughFs } from "./pass-through-fs.js";

// Every operation of the seam SimFS has, the optional ones included, reaches it: a test over the wrapper takes the
// paths the code takes over SimFS itself (an invalidation marker linked into place, a refused restore's rmdir).
test("PassThroughFs forwards every seam operation SimFS has, link and rmdir included", async () => {
  const sim = SimFS.withDir("/w");
  const fs = new PassThroughFs(sim);
  for (const op of ["open", "mkdirp", "readdir", "stat", "rename", "unlink", "link", "syncDir", "rmdir"] as const) {
    expect(typeof fs[op], op).toBe("function");
  }
  const f = await fs.open("/w/a", "createExclusive");
  await f.close();
  await fs.link("/w/a", "/w/b");
  await fs.mkdirp("/w/d");
  await fs.rmdir("/w/d");
  expect(sim.stats.links).toBe(1);
  expect(sim.stats.rmdirs).toBe(1);
  expect(sim.listSync("/w")).toEqual(["a", "b"]);
});
