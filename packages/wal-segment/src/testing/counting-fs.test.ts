import { describe, expect, it } from "vitest";
import { countingFileSystem } from "./counting-fs.js";
import { SimFS } from "./sim-fs.js";

describe("countingFileSystem", () => {
  it("counts the bytes read and the data syncs per path, and forwards everything else", async () => {
    const sim = new SimFS();
    await sim.mkdirp("/d");
    const { fs, counts } = countingFileSystem(sim);
    const file = await fs.open("/d/a", "createExclusive");
    await file.write(new Uint8Array([1, 2, 3, 4, 5]), 0);
    await file.datasync();
    file.datasyncSync?.();
    const buffer = new Uint8Array(8);
    expect(await file.read(buffer, 0, 8, 1)).toBe(4);
    expect(file.readSync?.(buffer, 0, 2, 0)).toBe(2);
    await file.close();
    expect(counts.bytesRead.get("/d/a")).toBe(6);
    expect(counts.datasyncs.get("/d/a")).toBe(file.datasyncSync === undefined ? 1 : 2);
    expect(counts.totalBytesRead((p) => p.endsWith(".wal"))).toBe(0);
    expect(counts.totalBytesRead()).toBe(6);
    // Calls the wrapper does not count reach the inner file system.
    expect((await fs.stat("/d/a"))?.size).toBe(5);
    expect(await fs.readdir("/d")).toEqual(["a"]);
  });
});
