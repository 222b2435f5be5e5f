/**
 * What a failed call of `fsArchive` rejects with, pinned whole: `WAL_IO` whose message is
 * `<store name>: <op> <key> failed: <the seam's message>` (no key for a list of the whole store), whose `details`
 * are the seam's (path, syscall, errno) with `object` set to the key or prefix, and whose `cause` is the seam's
 * cause (the Node error). A `WalError` that is not `WAL_IO` passes through as it is.
 */

import { isWalError, WalError } from "@lora/wal-codec";
import { SimFS, wrapFileSystem } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { fsArchive } from "./fs-archive.js";

async function rejection(p: Promise<unknown>): Promise<WalError> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isWalError(error)) throw new Error(`expected a WalError, got ${String(error)}`);
  return error;
}

/** The parts of an error a caller sees, the cause reduced to its class, code and message. */
function seen(error: WalError): unknown {
  const cause = error.cause as { name?: string; code?: string; message?: string } | undefined;
  return {
    code: error.code,
    message: error.message,
    details: error.details,
    cause: cause === undefined ? undefined : { name: cause.name, code: cause.code, message: cause.message },
  };
}

/** The random part of a put's temporary file name, the same in every field of one error. */
function withTmp(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value).replace(/\.tmp-[0-9a-f]+/g, ".tmp-*"));
}

const cause = (code: string, text: string, syscall: string, path: string) => ({
  name: "Error",
  code,
  message: `${code}: ${text}, ${syscall} '${path}'`,
});

it("put, get, list and delete each reject WAL_IO with the seam's details, its cause and the object named", async () => {
  const sim = new SimFS();
  const store = fsArchive("/archive", { fs: sim });
  await store.put("segments/ok", new Uint8Array([1, 2, 3]));

  sim.injectFault({ op: "rename", errno: "EIO" });
  expect(withTmp(seen(await rejection(store.put("segments/x", new Uint8Array([4])))))).toEqual({
    code: "WAL_IO",
    message:
      "fs:/archive: put segments/x failed: rename failed on /archive/segments/x.tmp-*: EIO: i/o error, rename '/archive/segments/x.tmp-*'",
    details: { errno: "EIO", syscall: "rename", path: "/archive/segments/x.tmp-*", object: "segments/x" },
    cause: cause("EIO", "i/o error", "rename", "/archive/segments/x.tmp-*"),
  });

  sim.injectFault({ op: "open", errno: "EACCES" });
  expect(seen(await rejection(store.get("segments/ok")))).toEqual({
    code: "WAL_IO",
    message:
      "fs:/archive: get segments/ok failed: open failed on /archive/segments/ok: EACCES: permission denied, open '/archive/segments/ok'",
    details: { errno: "EACCES", syscall: "open", path: "/archive/segments/ok", object: "segments/ok" },
    cause: cause("EACCES", "permission denied", "open", "/archive/segments/ok"),
  });

  // A list of the whole store names no object in its message; `details.object` is the empty prefix.
  sim.injectFault({ op: "readdir", errno: "EIO" });
  expect(seen(await rejection(store.list()))).toEqual({
    code: "WAL_IO",
    message: "fs:/archive: list failed: scandir failed on /archive: EIO: i/o error, scandir '/archive'",
    details: { errno: "EIO", syscall: "scandir", path: "/archive", object: "" },
    cause: cause("EIO", "i/o error", "scandir", "/archive"),
  });

  sim.injectFault({ op: "readdir", errno: "EMFILE" });
  expect(seen(await rejection(store.list("segments/")))).toEqual({
    code: "WAL_IO",
    message:
      "fs:/archive: list segments/ failed: scandir failed on /archive/segments: EMFILE: too many open files, scandir '/archive/segments'",
    details: { errno: "EMFILE", syscall: "scandir", path: "/archive/segments", object: "segments/" },
    cause: cause("EMFILE", "too many open files", "scandir", "/archive/segments"),
  });

  sim.injectFault({ op: "unlink", errno: "EROFS" });
  expect(seen(await rejection(store.delete("segments/ok")))).toEqual({
    code: "WAL_IO",
    message:
      "fs:/archive: delete segments/ok failed: unlink failed on /archive/segments/ok: EROFS: read-only file system, unlink '/archive/segments/ok'",
    details: { errno: "EROFS", syscall: "unlink", path: "/archive/segments/ok", object: "segments/ok" },
    cause: cause("EROFS", "read-only file system", "unlink", "/archive/segments/ok"),
  });
});

it("a WalError of the seam that is not WAL_IO, and an abort's reason, pass through as they are", async () => {
  const sim = new SimFS();
  await fsArchive("/archive", { fs: sim }).put("segments/ok", new Uint8Array([1, 2, 3]));
  const refusal = new WalError("WAL_LOCKED", "held elsewhere");
  const refusing = wrapFileSystem(sim, (file) => file, { stat: () => Promise.reject(refusal) });
  expect(await rejection(fsArchive("/archive", { fs: refusing }).get("segments/ok"))).toBe(refusal);

  // An abort while the put's file is fsynced, before its rename, rejects with the signal's reason.
  const reason = new WalError("WAL_CLOSED", "the caller's own refusal");
  const stop = new AbortController();
  const stopping = wrapFileSystem(
    sim,
    (file) =>
      new Proxy(file, {
        get(target, key) {
          if (key !== "sync") {
            const value: unknown = Reflect.get(target, key, target);
            return typeof value === "function" ? value.bind(target) : value;
          }
          return async () => {
            stop.abort(reason);
            await target.sync();
          };
        },
      }),
  );
  const put = fsArchive("/archive", { fs: stopping }).put("segments/y", new Uint8Array([5]), { signal: stop.signal });
  expect(await rejection(put)).toBe(reason);
});
