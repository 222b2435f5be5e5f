/**
 * The conformance suite of the file-system seam: any {@link WalFileSystem} (the Node one, SimFS, a store
 * author's own) must pass it. The test runner is injected, so this package does not depend on vitest.
 */

import { join } from "node:path";
import type { OpenMode, WalFile, WalFileSystem } from "../fs/file-system.js";

/** A file system to test, a directory in it to work under, and how to dispose of both. */
export interface FileSystemFixture {
  readonly fs: WalFileSystem;
  /** An existing, empty directory. */
  readonly root: string;
  cleanup(): Promise<void>;
}

/** The part of `expect` the suite uses (vitest's and jest's fit). */
export type ConformanceExpect = (actual: unknown) => {
  toBe(expected: unknown): void;
  toEqual(expected: unknown): void;
};

/**
 * What {@link runFileSystemConformance} needs: the test runner's `describe`, `test` and `expect` (vitest's or jest's),
 * and a fresh fixture per test.
 */
export interface ConformanceSuiteOptions {
  readonly describe: (name: string, fn: () => void) => void;
  readonly test: (name: string, fn: () => Promise<void>) => void;
  readonly expect: ConformanceExpect;
  /** Called once per test. */
  readonly create: () => Promise<FileSystemFixture>;
}

const enc = new TextEncoder();

/**
 * Register the seam's conformance tests with the given runner.
 *
 * @example
 * ```ts
 * import { describe, expect, test } from "vitest";
 * runFileSystemConformance({ describe, test, expect, create: async () => ({ fs: SimFS.withDir("/t"), root: "/t", cleanup: async () => {} }) });
 * ```
 */
export function runFileSystemConformance(options: ConformanceSuiteOptions): void {
  const { describe, test, expect, create } = options;

  /** `call`, a synchronous call of the seam, throws `WAL_IO` with `errno` in `details.errno` (not errnoOf: see below). */
  const expectSyncFailure = (call: () => unknown, errno: string): void => {
    let error: unknown;
    try {
      call();
    } catch (e) {
      error = e;
    }
    const failed = error as { code?: unknown; details?: { errno?: unknown } } | undefined;
    expect(failed?.code).toBe("WAL_IO");
    expect(failed?.details?.errno).toBe(errno);
  };

  const withFs = (name: string, body: (fs: WalFileSystem, root: string) => Promise<void>) =>
    test(name, async () => {
      const fixture = await create();
      try {
        await body(fixture.fs, fixture.root);
      } finally {
        await fixture.cleanup();
      }
    });

  /**
   * Await `p`, which must reject with WAL_IO and `errno`. Not errnoOf, which takes the errno from wherever it is:
   * the contract puts it in `details.errno` and the Node error in `cause`, and each is checked where it must be.
   */
  const rejectsWith = async (p: Promise<unknown>, errno: string, path?: string) => {
    let error: unknown;
    try {
      await p;
    } catch (e) {
      error = e;
    }
    const e = error as { name?: unknown; code?: unknown; details?: Record<string, unknown>; cause?: unknown };
    expect(e?.name).toBe("WalError");
    expect(e?.code).toBe("WAL_IO");
    expect(e?.details?.errno).toBe(errno);
    expect(typeof e?.details?.syscall).toBe("string");
    if (path !== undefined) expect(e?.details?.path).toBe(path);
    expect((e?.cause as { code?: unknown } | undefined)?.code).toBe(errno);
  };

  const readAll = async (file: WalFile): Promise<Uint8Array> => {
    const size = await file.size();
    const out = new Uint8Array(size);
    expect(await file.read(out, 0, size, 0)).toBe(size);
    return out;
  };

  const writeFile = async (fs: WalFileSystem, path: string, bytes: Uint8Array) => {
    const f = await fs.open(path, "createExclusive");
    await f.write(bytes, 0);
    await f.close();
  };

  /** What `stat` reports but its optional identity, which the identity tests look at. */
  const statOf = async (fs: WalFileSystem, path: string) => {
    const st = await fs.stat(path);
    return st === null ? null : { size: st.size, isFile: st.isFile, isDirectory: st.isDirectory };
  };

  const pattern = (n: number, salt: number) => {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = (i * 31 + salt + (i >>> 8)) & 0xff;
    return b;
  };

  describe(`WalFileSystem conformance`, () => {
    withFs(
      "createExclusive creates an empty file; on an existing one fails EEXIST and does not clobber",
      async (fs, root) => {
        const p = join(root, "a.wal");
        const f = await fs.open(p, "createExclusive");
        expect(await f.size()).toBe(0);
        await f.write(enc.encode("keep me"), 0);
        await f.close();
        await rejectsWith(fs.open(p, "createExclusive"), "EEXIST", p);
        const r = await fs.open(p, "read");
        expect(Array.from(await readAll(r))).toEqual(Array.from(enc.encode("keep me")));
        await r.close();
      },
    );

    withFs("read and readWrite on a missing file fail ENOENT", async (fs, root) => {
      const p = join(root, "missing.wal");
      await rejectsWith(fs.open(p, "read"), "ENOENT", p);
      await rejectsWith(fs.open(p, "readWrite"), "ENOENT", p);
      await rejectsWith(fs.open(join(root, "no-dir", "x.wal"), "createExclusive"), "ENOENT");
      expect(await fs.stat(p)).toBe(null);
    });

    withFs("an unknown open mode is WAL_INVALID_ARGUMENT and creates nothing", async (fs, root) => {
      const p = join(root, "a.wal");
      for (const mode of ["create", "", undefined, "READ", "constructor", "toString"]) {
        let error: unknown;
        try {
          await fs.open(p, mode as OpenMode);
        } catch (e) {
          error = e;
        }
        expect((error as { code?: unknown } | undefined)?.code).toBe("WAL_INVALID_ARGUMENT");
      }
      expect(await fs.stat(p)).toBe(null);
    });

    withFs("positional writes extend the file; gaps read as zeros", async (fs, root) => {
      const f = await fs.open(join(root, "a"), "createExclusive");
      await f.write(Uint8Array.of(1, 2, 3), 0);
      await f.write(Uint8Array.of(9, 9), 10);
      expect(await f.size()).toBe(12);
      await f.write(Uint8Array.of(7), 1);
      expect(Array.from(await readAll(f))).toEqual([1, 7, 3, 0, 0, 0, 0, 0, 0, 0, 9, 9]);
      const part = new Uint8Array(6).fill(0xee);
      expect(await f.read(part, 2, 3, 9)).toBe(3);
      expect(Array.from(part)).toEqual([0xee, 0xee, 0, 9, 9, 0xee]);
      await f.write(new Uint8Array(0), 100);
      expect(await f.size()).toBe(12);
      await f.close();
    });

    withFs("readSync, where offered, reads as read does and fails like it", async (fs, root) => {
      const f = await fs.open(join(root, "a"), "createExclusive");
      await f.write(Uint8Array.of(1, 2, 3, 4, 5), 0);
      if (f.readSync === undefined) {
        await f.close();
        return; // optional in the seam: nothing to check for implementations without it
      }
      const out = new Uint8Array(8).fill(0xee);
      expect(f.readSync(out, 1, 3, 1)).toBe(3);
      expect(Array.from(out)).toEqual([0xee, 2, 3, 4, 0xee, 0xee, 0xee, 0xee]);
      expect(f.readSync(out, 0, 8, 3)).toBe(2); // short only at end of file
      expect(f.readSync(out, 0, 4, 5)).toBe(0);
      await f.write(Uint8Array.of(6), 5);
      expect(f.readSync(out, 0, 1, 5)).toBe(1); // sees what was written since, like read
      expect(out[0]).toBe(6);
      await f.close();
      expectSyncFailure(() => f.readSync?.(out, 0, 1, 0), "EBADF");
    });

    withFs("sizeSync, where offered, answers as size does and fails like it", async (fs, root) => {
      const f = await fs.open(join(root, "a"), "createExclusive");
      if (f.sizeSync === undefined) {
        await f.close();
        return; // optional in the seam: nothing to check for implementations without it
      }
      expect(f.sizeSync()).toBe(0);
      await f.write(Uint8Array.of(1, 2, 3), 4);
      expect(f.sizeSync()).toBe(7);
      await f.truncate(2);
      expect(f.sizeSync()).toBe(await f.size());
      await f.close();
      expectSyncFailure(() => f.sizeSync?.(), "EBADF");
    });

    withFs("writeSync, where offered, behaves as write and fails like it", async (fs, root) => {
      const f = await fs.open(join(root, "a"), "createExclusive");
      if (f.writeSync === undefined) {
        await f.close();
        return; // optional in the seam: nothing to check for implementations without it
      }
      f.writeSync(Uint8Array.of(1, 2, 3), 0);
      f.writeSync(Uint8Array.of(9), 5);
      await f.write(Uint8Array.of(7), 1);
      expect(Array.from(await readAll(f))).toEqual([1, 7, 3, 0, 0, 9]);
      const big = new Uint8Array(1 << 20).map((_, i) => i & 0xff);
      f.writeSync(big, 6);
      expect(await f.size()).toBe(6 + big.byteLength);
      await f.close();
      const ro = await fs.open(join(root, "a"), "read");
      expectSyncFailure(() => ro.writeSync?.(Uint8Array.of(1), 0), "EBADF");
      await ro.close();
    });

    withFs("datasyncSync, where offered, makes written data durable and fails like datasync", async (fs, root) => {
      const f = await fs.open(join(root, "a"), "createExclusive");
      if (f.datasyncSync === undefined) {
        await f.close();
        return; // optional in the seam
      }
      await f.write(Uint8Array.of(1, 2, 3), 0);
      f.datasyncSync();
      expect(Array.from(await readAll(f))).toEqual([1, 2, 3]);
      await f.close();
      expectSyncFailure(() => f.datasyncSync?.(), "EBADF");
    });

    withFs("read at or after EOF returns 0; across EOF a short count", async (fs, root) => {
      const f = await fs.open(join(root, "a"), "createExclusive");
      await f.write(Uint8Array.of(1, 2, 3, 4), 0);
      const buf = new Uint8Array(8);
      expect(await f.read(buf, 0, 8, 4)).toBe(0);
      expect(await f.read(buf, 0, 8, 100)).toBe(0);
      expect(await f.read(buf, 0, 8, 2)).toBe(2);
      expect(Array.from(buf.subarray(0, 2))).toEqual([3, 4]);
      expect(await f.read(buf, 0, 0, 0)).toBe(0);
      await f.close();
    });

    withFs("truncate shrinks, and extends with zeros (also over previously written bytes)", async (fs, root) => {
      const f = await fs.open(join(root, "a"), "createExclusive");
      await f.write(new Uint8Array(5000).fill(7), 0);
      await f.truncate(3);
      expect(await f.size()).toBe(3);
      expect(Array.from(await readAll(f))).toEqual([7, 7, 7]);
      await f.truncate(4100);
      expect(await f.size()).toBe(4100);
      const all = await readAll(f);
      expect(all.subarray(3).every((b) => b === 0)).toBe(true);
      await f.truncate(0);
      expect(await f.size()).toBe(0);
      await f.close();
    });

    withFs("a write past a truncate's cut reads zeros between: the cut bytes never come back", async (fs, root) => {
      // A live process sees a truncate in its place among the writes; only a power loss may reorder them.
      const f = await fs.open(join(root, "a"), "createExclusive");
      await f.write(new Uint8Array(5000).fill(7), 0);
      await f.truncate(100);
      await f.write(new Uint8Array(10).fill(9), 4200);
      expect(await f.size()).toBe(4210);
      const all = await readAll(f);
      expect(all.subarray(0, 100).every((b) => b === 7)).toBe(true);
      expect(all.subarray(100, 4200).every((b) => b === 0)).toBe(true);
      expect(all.subarray(4200).every((b) => b === 9)).toBe(true);
      await f.datasync();
      expect(await f.size()).toBe(4210);
      await f.close();
    });

    withFs(
      "truncate refuses a negative or fractional length with WAL_INVALID_ARGUMENT, the file unchanged",
      async (fs, root) => {
        const f = await fs.open(join(root, "a"), "createExclusive");
        await f.write(new Uint8Array(10).fill(7), 0);
        // ftruncate(2) takes an off_t: Node clamps a negative length to 0 (the file cut to nothing), so the seam
        // checks before the call, as SimFS does.
        for (const length of [-1, 2.5, Number.NaN]) {
          let error: unknown;
          try {
            await f.truncate(length);
          } catch (e) {
            error = e;
          }
          expect((error as { code?: unknown } | undefined)?.code).toBe("WAL_INVALID_ARGUMENT");
        }
        expect(await f.size()).toBe(10);
        expect(Array.from(await readAll(f))).toEqual(new Array<number>(10).fill(7));
        await f.close();
      },
    );

    withFs("reads and writes at a bad position, offset or length are refused, the file unchanged", async (fs, root) => {
      const f = await fs.open(join(root, "a"), "createExclusive");
      await f.write(new Uint8Array(10).fill(7), 0);
      const refused = async (call: () => unknown) => {
        let error: unknown;
        try {
          await call();
        } catch (e) {
          error = e;
        }
        expect((error as { code?: unknown } | undefined)?.code).toBe("WAL_INVALID_ARGUMENT");
      };
      // node:fs writes at the descriptor's own offset (here 0) for these, or throws a RangeError with no code.
      for (const position of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
        await refused(() => f.write(Uint8Array.of(9), position));
        if (f.writeSync !== undefined) await refused(() => f.writeSync?.(Uint8Array.of(9), position));
        await refused(() => f.read(new Uint8Array(4), 0, 4, position));
        if (f.readSync !== undefined) await refused(() => f.readSync?.(new Uint8Array(4), 0, 4, position));
      }
      const buffer = new Uint8Array(4);
      for (const [offset, length] of [
        [0, 5],
        [2, 3],
        [-1, 2],
        [0, -1],
        [0.5, 2],
        [0, Number.NaN],
      ] as const) {
        await refused(() => f.read(buffer, offset, length, 0));
        if (f.readSync !== undefined) await refused(() => f.readSync?.(buffer, offset, length, 0));
      }
      expect(Array.from(await readAll(f))).toEqual(new Array<number>(10).fill(7));
      await f.close();
    });

    withFs("a read over a hole fills the buffer with zeros, whatever it held", async (fs, root) => {
      const f = await fs.open(join(root, "a"), "createExclusive");
      await f.write(Uint8Array.of(1), 0);
      await f.write(Uint8Array.of(2), 3 * 4096 + 5); // whole pages never written lie between
      const buf = new Uint8Array(3 * 4096 + 6).fill(0xee);
      expect(await f.read(buf, 0, buf.length, 0)).toBe(buf.length);
      expect(buf[0]).toBe(1);
      expect(buf[buf.length - 1]).toBe(2);
      expect(buf.subarray(1, buf.length - 1).every((b) => b === 0)).toBe(true);
      await f.truncate(1);
      await f.truncate(2 * 4096);
      const after = new Uint8Array(2 * 4096).fill(0xee);
      expect(await f.read(after, 0, after.length, 0)).toBe(after.length);
      expect(after.subarray(1).every((b) => b === 0)).toBe(true);
      const one = new Uint8Array(1);
      expect(await f.read(one, 0, 1, 0)).toBe(1);
      expect(one[0]).toBe(1);
      await f.close();
    });

    withFs("truncate through a read-only handle fails (EINVAL or EBADF) and changes nothing", async (fs, root) => {
      const p = join(root, "a");
      await writeFile(fs, p, Uint8Array.of(1, 2, 3));
      const r = await fs.open(p, "read");
      let error: unknown;
      try {
        await r.truncate(1);
      } catch (e) {
        error = e;
      }
      const failed = error as { code?: unknown; details?: { errno?: unknown } } | undefined;
      expect(failed?.code).toBe("WAL_IO");
      expect(["EINVAL", "EBADF"].includes(failed?.details?.errno as string)).toBe(true);
      expect(Array.from(await readAll(r))).toEqual([1, 2, 3]);
      await r.close();
    });

    withFs("size() and stat() report the length; stat distinguishes files and directories", async (fs, root) => {
      const p = join(root, "a");
      await writeFile(fs, p, new Uint8Array(1234));
      expect(await statOf(fs, p)).toEqual({ size: 1234, isFile: true, isDirectory: false });
      const d = await fs.stat(root);
      expect(d?.isDirectory).toBe(true);
      expect(d?.isFile).toBe(false);
      expect(await fs.stat(join(root, "nope"))).toBe(null);
      expect(await fs.stat(join(p, "under-a-file"))).toBe(null);
      const f = await fs.open(p, "read");
      expect(await f.size()).toBe(1234);
      await f.close();
    });

    withFs("rename moves a file and replaces the target", async (fs, root) => {
      const a = join(root, "a");
      const b = join(root, "b");
      await writeFile(fs, a, enc.encode("new"));
      await writeFile(fs, b, enc.encode("old contents"));
      await fs.rename(a, b);
      expect(await fs.stat(a)).toBe(null);
      const f = await fs.open(b, "read");
      expect(Array.from(await readAll(f))).toEqual(Array.from(enc.encode("new")));
      await f.close();
      expect((await fs.readdir(root)).sort()).toEqual(["b"]);
      await rejectsWith(fs.rename(a, join(root, "c")), "ENOENT");
    });

    withFs("rename onto a directory fails EISDIR and moves nothing", async (fs, root) => {
      const a = join(root, "a");
      const d = join(root, "d");
      await writeFile(fs, a, enc.encode("x"));
      await fs.mkdirp(d);
      await rejectsWith(fs.rename(a, d), "EISDIR");
      expect(await statOf(fs, a)).toEqual({ size: 1, isFile: true, isDirectory: false });
      expect((await fs.stat(d))?.isDirectory).toBe(true);
      expect(await fs.readdir(d)).toEqual([]);
    });

    withFs("unlink removes a file; a missing one fails ENOENT", async (fs, root) => {
      const a = join(root, "a");
      await writeFile(fs, a, enc.encode("x"));
      await fs.unlink(a);
      expect(await fs.stat(a)).toBe(null);
      expect(await fs.readdir(root)).toEqual([]);
      await rejectsWith(fs.unlink(a), "ENOENT", a);
    });

    withFs("link gives a file a second name, never replaces one; a seam may lack it", async (fs, root) => {
      // Optional in the seam: a seam without it is still conforming (callers then create the name exclusively).
      if (fs.link === undefined) return;
      const a = join(root, "a");
      const b = join(root, "b");
      const taken = join(root, "taken");
      const d = join(root, "d");
      await writeFile(fs, a, enc.encode("whole"));
      await writeFile(fs, taken, enc.encode("first"));
      await fs.mkdirp(d);
      await fs.link(a, b);
      const f = await fs.open(b, "read");
      expect(Array.from(await readAll(f))).toEqual(Array.from(enc.encode("whole")));
      await f.close();
      // The names share the file: removing one leaves the other whole.
      await fs.unlink(a);
      expect(await statOf(fs, b)).toEqual({ size: 5, isFile: true, isDirectory: false });
      await rejectsWith(fs.link(b, taken), "EEXIST", taken);
      await rejectsWith(fs.link(b, d), "EEXIST", d);
      await rejectsWith(fs.link(a, join(root, "c")), "ENOENT");
      const t = await fs.open(taken, "read");
      expect(Array.from(await readAll(t))).toEqual(Array.from(enc.encode("first")));
      await t.close();
      expect((await fs.readdir(root)).sort()).toEqual(["b", "d", "taken"]);
    });

    withFs("rename between two names of one file succeeds and changes nothing (POSIX rename(2))", async (fs, root) => {
      if (fs.link === undefined) return;
      const a = join(root, "a");
      const b = join(root, "b");
      await writeFile(fs, a, enc.encode("one file"));
      await fs.link(a, b);
      // Both names stay: rename(2) does nothing when the source and the target are links to the same file.
      await fs.rename(a, b);
      await fs.rename(b, a);
      expect((await fs.readdir(root)).sort()).toEqual(["a", "b"]);
      for (const p of [a, b]) {
        const f = await fs.open(p, "read");
        expect(Array.from(await readAll(f))).toEqual(Array.from(enc.encode("one file")));
        await f.close();
      }
    });

    withFs(
      "a file's identity, where offered, is its own: kept across a rename and a link, another for a file made anew",
      async (fs, root) => {
        // Optional in the seam: a seam without it is still conforming (callers then tell files by their bytes).
        const a = join(root, "a");
        const b = join(root, "b");
        const c = join(root, "c");
        await writeFile(fs, a, enc.encode("first"));
        const first = (await fs.stat(a))?.identity;
        const file = await fs.open(a, "read");
        try {
          if (first === undefined) return;
          expect(typeof first).toBe("string");
          // The open file's identity is its path's.
          if (file.identity !== undefined) expect(await file.identity()).toBe(first);
          // Another file existing at the same time has another one.
          await writeFile(fs, c, enc.encode("first"));
          expect((await fs.stat(c))?.identity === first).toBe(false);
          // A rename keeps it, and so does the open file.
          await fs.rename(a, b);
          expect((await fs.stat(b))?.identity).toBe(first);
          if (file.identity !== undefined) expect(await file.identity()).toBe(first);
          // A file created at the path the first one left, the same bytes in it, is another file.
          await writeFile(fs, a, enc.encode("first"));
          const second = (await fs.stat(a))?.identity;
          expect(typeof second).toBe("string");
          expect(second === first).toBe(false);
          // Unlinked (still open here) and made again: another file again.
          await fs.unlink(b);
          await writeFile(fs, b, enc.encode("first"));
          const third = (await fs.stat(b))?.identity;
          expect(third === first || third === second).toBe(false);
          if (file.identity !== undefined) expect(await file.identity()).toBe(first);
          // A second name of a file is the same file.
          if (fs.link !== undefined) {
            await fs.link(a, join(root, "d"));
            expect((await fs.stat(join(root, "d")))?.identity).toBe(second);
          }
          // A rename over an existing name puts the moved file's identity there.
          await fs.rename(b, a);
          expect((await fs.stat(a))?.identity).toBe(third);
        } finally {
          await file.close();
        }
        if (file.identity !== undefined) await rejectsWith(file.identity(), "EBADF");
      },
    );

    withFs("readdir lists files and subdirectories; a missing directory fails ENOENT", async (fs, root) => {
      await writeFile(fs, join(root, "0000000001.wal"), new Uint8Array(1));
      await writeFile(fs, join(root, ".lora-wal.lock"), new Uint8Array(0));
      await fs.mkdirp(join(root, "sub"));
      expect((await fs.readdir(root)).sort()).toEqual([".lora-wal.lock", "0000000001.wal", "sub"]);
      expect(await fs.readdir(join(root, "sub"))).toEqual([]);
      await rejectsWith(fs.readdir(join(root, "missing")), "ENOENT");
    });

    withFs("mkdirp creates parents and is idempotent", async (fs, root) => {
      const deep = join(root, "a", "b", "c");
      await fs.mkdirp(deep);
      await fs.mkdirp(deep);
      await fs.mkdirp(join(root, "a"));
      expect((await fs.stat(deep))?.isDirectory).toBe(true);
      await writeFile(fs, join(deep, "f"), new Uint8Array(3));
      expect(await fs.readdir(deep)).toEqual(["f"]);
    });

    withFs("mkdirp over a file fails EEXIST, under a file ENOTDIR, and the file stays", async (fs, root) => {
      const p = join(root, "f");
      await writeFile(fs, p, Uint8Array.of(5));
      await rejectsWith(fs.mkdirp(p), "EEXIST");
      await rejectsWith(fs.mkdirp(join(p, "sub")), "ENOTDIR");
      expect(await statOf(fs, p)).toEqual({ size: 1, isFile: true, isDirectory: false });
    });

    withFs("rmdir removes an empty directory only; a seam may lack it", async (fs, root) => {
      // Optional in the seam: a seam without it is still conforming (callers then leave such a directory).
      if (fs.rmdir === undefined) return;
      const empty = join(root, "empty");
      const full = join(root, "full");
      await fs.mkdirp(empty);
      await fs.mkdirp(join(full, "inner"));
      await writeFile(fs, join(root, "file"), new Uint8Array(1));
      await fs.rmdir(empty);
      expect(await fs.stat(empty)).toBe(null);
      await rejectsWith(fs.rmdir(full), "ENOTEMPTY", full);
      await rejectsWith(fs.rmdir(join(root, "missing")), "ENOENT");
      await rejectsWith(fs.rmdir(join(root, "file")), "ENOTDIR");
      await fs.rmdir(join(full, "inner"));
      await fs.rmdir(full);
      expect((await fs.readdir(root)).sort()).toEqual(["file"]);
    });

    withFs("a directory removed and made again is empty; syncDir of it and of its parent resolve", async (fs, root) => {
      if (fs.rmdir === undefined) return;
      const d = join(root, "d");
      await fs.mkdirp(d);
      await fs.syncDir(d);
      await fs.syncDir(root);
      await writeFile(fs, join(d, "f"), new Uint8Array(1));
      await fs.unlink(join(d, "f"));
      await fs.rmdir(d);
      await fs.mkdirp(d);
      expect(await fs.readdir(d)).toEqual([]);
      await fs.syncDir(d);
      await fs.syncDir(root);
      expect(await fs.readdir(root)).toEqual(["d"]);
    });

    withFs("datasync, sync and syncDir resolve", async (fs, root) => {
      const f = await fs.open(join(root, "a"), "createExclusive");
      await f.write(enc.encode("durable"), 0);
      await f.datasync();
      await f.sync();
      await f.datasync(); // nothing new to sync
      await fs.syncDir(root);
      await f.close();
      await rejectsWith(fs.syncDir(join(root, "missing")), "ENOENT");
    });

    withFs("openOrCreate creates a missing file and never truncates an existing one", async (fs, root) => {
      const p = join(root, "a");
      const f = await fs.open(p, "openOrCreate");
      expect(await f.size()).toBe(0);
      await f.write(enc.encode("hello"), 0);
      await f.close();
      const g = await fs.open(p, "openOrCreate");
      expect(await g.size()).toBe(5);
      await g.write(enc.encode("J"), 0); // positional, not appended
      expect(Array.from(await readAll(g))).toEqual(Array.from(enc.encode("Jello")));
      await g.close();
      const h = await fs.open(p, "readWrite");
      expect(await h.size()).toBe(5);
      await h.close();
    });

    withFs("a 1 MiB write round-trips, read whole and in chunks", async (fs, root) => {
      const data = pattern(1 << 20, 5);
      const f = await fs.open(join(root, "big"), "createExclusive");
      await f.write(data, 100);
      expect(await f.size()).toBe(100 + data.length);
      const back = new Uint8Array(data.length);
      expect(await f.read(back, 0, data.length, 100)).toBe(data.length);
      expect(Buffer.compare(back, data)).toBe(0);
      const chunk = new Uint8Array(65_536);
      let pos = 100;
      let same = true;
      while (pos < 100 + data.length) {
        const n = await f.read(chunk, 0, chunk.length, pos);
        if (Buffer.compare(chunk.subarray(0, n), data.subarray(pos - 100, pos - 100 + n)) !== 0) same = false;
        pos += n;
      }
      expect(same).toBe(true);
      await f.close();
    });

    withFs("concurrent writes at different offsets all land", async (fs, root) => {
      const f = await fs.open(join(root, "a"), "createExclusive");
      const parts = Array.from({ length: 16 }, (_, i) => pattern(3000, i));
      await Promise.all(parts.map((p, i) => f.write(p, i * 3000)));
      const all = await readAll(f);
      expect(all.length).toBe(16 * 3000);
      expect(parts.every((p, i) => Buffer.compare(all.subarray(i * 3000, (i + 1) * 3000), p) === 0)).toBe(true);
      await f.close();
    });

    withFs(
      "a file opened read-only reads; data written through one handle is seen through another",
      async (fs, root) => {
        const p = join(root, "a");
        const w = await fs.open(p, "createExclusive");
        const r = await fs.open(p, "read");
        await w.write(enc.encode("abc"), 0);
        expect(Array.from(await readAll(r))).toEqual(Array.from(enc.encode("abc")));
        expect(r.path).toBe(p);
        await w.close();
        await r.close();
      },
    );

    withFs("close is idempotent and later calls fail EBADF", async (fs, root) => {
      const f = await fs.open(join(root, "a"), "createExclusive");
      await f.close();
      await f.close();
      await rejectsWith(f.write(Uint8Array.of(1), 0), "EBADF");
      await rejectsWith(f.read(new Uint8Array(1), 0, 1, 0), "EBADF");
      await rejectsWith(f.datasync(), "EBADF");
    });

    withFs("a closed handle never reaches a file opened after it (a reused descriptor)", async (fs, root) => {
      const a = await fs.open(join(root, "a"), "createExclusive");
      await a.close();
      const p = join(root, "b");
      await writeFile(fs, p, Uint8Array.of(1, 2, 3));
      const b = await fs.open(p, "readWrite"); // on Linux it takes the number a's descriptor had
      await rejectsWith(a.truncate(0), "EBADF");
      await rejectsWith(a.size(), "EBADF");
      await rejectsWith(a.sync(), "EBADF");
      await rejectsWith(a.write(Uint8Array.of(9), 0), "EBADF");
      expect(Array.from(await readAll(b))).toEqual([1, 2, 3]);
      await b.close();
    });
  });
}
