import { describe, expect, it } from "vitest";
import { SimFS } from "./sim-fs.js";
import { blankFile, interceptOpen } from "./wrapped-fs.js";

async function fileWithBytes(fs: SimFS) {
  fs.mkdirpSync("/w");
  const file = await fs.open("/w/f", "createExclusive");
  await file.write(Uint8Array.of(1, 2, 3), 0);
  return file;
}

describe("blankFile", () => {
  it("reads nothing and has size 0, with the synchronous calls hidden, and runs beforeRead at each read", async () => {
    const fs = new SimFS();
    const file = await fileWithBytes(fs);
    let before = 0;
    const blank = blankFile(file, () => {
      before++;
      return Promise.resolve();
    });
    const out = new Uint8Array(3);
    expect(await blank.read(out, 0, 3, 0)).toBe(0);
    expect(await blank.read(out, 0, 3, 0)).toBe(0);
    expect(Array.from(out)).toEqual([0, 0, 0]);
    expect(before).toBe(2);
    expect(await blank.size()).toBe(0);
    expect(blank.readSync).toBeUndefined();
    expect(blank.sizeSync).toBeUndefined();
    expect(blank.path).toBe(file.path); // everything else is the file's own
    expect(await file.size()).toBe(3); // the file itself is untouched
    await blank.close();
  });
});

describe("interceptOpen", () => {
  it("routes every open through the hook, which may open, fail or wrap; other calls are forwarded", async () => {
    const fs = new SimFS();
    await (await fileWithBytes(fs)).close();
    const seen: string[] = [];
    const seam = interceptOpen(fs, async (path, mode, open) => {
      seen.push(`${mode} ${path}`);
      if (path.endsWith("refused")) throw new Error("refused by the test");
      return open(path, mode);
    });
    const f = await seam.open("/w/f", "read");
    expect(await f.size()).toBe(3);
    await f.close();
    await expect(seam.open("/w/refused", "createExclusive")).rejects.toThrow("refused by the test");
    expect(seen).toEqual(["read /w/f", "createExclusive /w/refused"]);
    expect(await seam.stat("/w/refused")).toBeNull();
    expect((await seam.readdir("/w")).sort()).toEqual(["f"]);
  });
});
