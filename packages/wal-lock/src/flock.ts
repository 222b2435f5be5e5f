/**
 * Platform binding for the WAL directory lock: one non-blocking, exclusive, whole-file lock attempt on an fd that
 * `node:fs` opened. The retry policy lives in `dir-lock.ts`; this module only talks to the OS.
 *
 * Node has no `flock`, so the calls go through `koffi` (FFI with prebuilt binaries). The lock must be the same
 * kernel lock LoraDB takes, or the two would not exclude each other:
 *
 * - **Unix** (tested on Linux only): `flock(fd, LOCK_EX | LOCK_NB)`, retried at once while it fails with `EINTR`;
 *   `EWOULDBLOCK` (= `EAGAIN`) means another open file description holds it. The lock belongs to the open file
 *   description, so a second `open` of the same file in this process is refused too, and closing the fd (or the
 *   process dying, even by SIGKILL) releases it. Node opens files with `O_CLOEXEC`, so spawned children do not
 *   inherit it.
 * - **Windows** (UNTESTED): `LockFileEx(EXCLUSIVE | FAIL_IMMEDIATELY)` over offset 0, length 0xFFFFFFFF:0xFFFFFFFF;
 *   contention is `ERROR_LOCK_VIOLATION` (33) or `ERROR_SHARING_VIOLATION` (32). `UnlockFileEx` before close.
 *
 * The same `tryLock` also serves the second lock `dir-lock.ts` takes, on the WAL directory itself: on unix `flock`
 * accepts a directory fd opened `O_RDONLY | O_DIRECTORY` (Linux does; macOS and the BSDs are UNTESTED, and a file
 * system that refuses, such as NFS where `flock` becomes a POSIX write lock needing a writable fd, makes the caller
 * fall back to the file lock alone). On Windows `node:fs` cannot open a directory and `LockFileEx` has no directory
 * form, so {@link LockBinding.directoryLocks} is false there and only the file is locked.
 *
 * koffi and the system library are loaded lazily, on the first lock attempt, so importing `@lora/wal-lock` (or
 * `@lora/wal`) loads no native code (and read-only tools never need it unless they probe the lock).
 */

import { createRequire } from "node:module";
import { constants as osConstants } from "node:os";
import { getSystemErrorName } from "node:util";
import type Koffi from "koffi";

/** Outcome of one attempt. Any other failure is thrown as a Node-style errno error (`code`, `errno`, `syscall`). */
export type TryLockResult = "locked" | "contended";

export interface LockBinding {
  /** Whether `tryLock` may be given a directory fd (unix `flock`); false on Windows. */
  readonly directoryLocks: boolean;
  /** One non-blocking attempt to take the exclusive lock on `fd`. */
  tryLock(fd: number): TryLockResult;
  /** Release explicitly before the fd is closed (a no-op on unix, where closing releases the flock). */
  unlock(fd: number): void;
}

let binding: LockBinding | undefined;
let koffi: typeof Koffi;

/** The binding for this platform, loaded on first use. Throws if koffi or the system library cannot be loaded. */
export function lockBinding(): LockBinding {
  if (binding === undefined) {
    koffi ??= createRequire(import.meta.url)("koffi") as typeof Koffi;
    binding = process.platform === "win32" ? loadWindows() : loadUnix();
  }
  return binding;
}

/** A Node-style system error, so `WalError.cause` looks like any other fs failure. */
function sysError(syscall: string, code: string, errno: number, detail?: string): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error(`${code}: ${syscall} failed${detail ? ` (${detail})` : ""}`);
  e.code = code;
  e.errno = errno;
  e.syscall = syscall;
  return e;
}

// ---------------------------------------------------------------------------------------------------------------
// Unix: flock(2)

const LOCK_EX = 2;
const LOCK_NB = 4;

/** Where libc's `flock` lives. `null` (dlopen(NULL): the process's global symbols) is the fallback everywhere. */
function unixLibraryCandidates(): (string | null)[] {
  switch (process.platform) {
    case "linux":
      return ["libc.so.6", null]; // glibc; musl also answers to "libc.so.6" with itself
    case "darwin":
      return ["/usr/lib/libSystem.B.dylib", "libc.dylib", null]; // UNTESTED
    case "freebsd":
      return ["libc.so.7", null]; // UNTESTED
    default:
      return [null]; // UNTESTED
  }
}

function loadUnix(): LockBinding {
  let flock: ((fd: number, op: number) => number) | undefined;
  let lastError: unknown;
  for (const name of unixLibraryCandidates()) {
    try {
      flock = koffi.load(name).func("int flock(int fd, int op)") as (fd: number, op: number) => number;
      break;
    } catch (e) {
      lastError = e;
    }
  }
  if (flock === undefined) throw lastError;
  const lockFn = flock;

  // The host's own errno numbers (EAGAIN is 11 on Linux, 35 on macOS and the BSDs).
  const { EINTR, EAGAIN, EWOULDBLOCK } = osConstants.errno;
  return {
    directoryLocks: true,
    tryLock(fd) {
      for (;;) {
        if (lockFn(fd, LOCK_EX | LOCK_NB) === 0) return "locked";
        const errno = koffi.errno();
        if (errno === EINTR) continue;
        if (errno === EWOULDBLOCK || errno === EAGAIN) return "contended";
        let code: string;
        try {
          code = getSystemErrorName(-errno);
        } catch {
          code = `ERRNO_${errno}`;
        }
        throw sysError("flock", code, -errno);
      }
    },
    unlock() {
      // Closing the fd releases the flock; nothing else holds this open file description.
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Windows: LockFileEx. UNTESTED: only Linux is available where this was written.

const LOCKFILE_FAIL_IMMEDIATELY = 0x1;
const LOCKFILE_EXCLUSIVE_LOCK = 0x2;
const ERROR_SHARING_VIOLATION = 32;
const ERROR_LOCK_VIOLATION = 33;
const ERROR_IO_PENDING = 997; // never expected: Node's handles are not overlapped
const INVALID_HANDLE_VALUE = -1n;

function loadWindows(): LockBinding {
  const kernel32 = koffi.load("kernel32.dll");
  const OVERLAPPED = koffi.struct("LORA_WAL_OVERLAPPED", {
    Internal: "uintptr_t",
    InternalHigh: "uintptr_t",
    Offset: "uint32_t",
    OffsetHigh: "uint32_t",
    hEvent: "void *",
  });
  const overlapped = () => ({ Internal: 0, InternalHigh: 0, Offset: 0, OffsetHigh: 0, hEvent: null });
  const LockFileEx = kernel32.func("__stdcall", "LockFileEx", "int", [
    "intptr_t",
    "uint32_t",
    "uint32_t",
    "uint32_t",
    "uint32_t",
    koffi.pointer(OVERLAPPED),
  ]) as (h: bigint | number, flags: number, reserved: number, lo: number, hi: number, ov: object) => number;
  const UnlockFileEx = kernel32.func("__stdcall", "UnlockFileEx", "int", [
    "intptr_t",
    "uint32_t",
    "uint32_t",
    "uint32_t",
    koffi.pointer(OVERLAPPED),
  ]) as (h: bigint | number, reserved: number, lo: number, hi: number, ov: object) => number;
  // koffi preserves the thread's last-error value across its own calls, so this sees LockFileEx's.
  const GetLastError = kernel32.func("__stdcall", "GetLastError", "uint32_t", []) as () => number;

  // Node's fds are C runtime fds over HANDLEs. Node links its CRT statically, so the fd table is the one inside
  // node.exe: ask libuv (exported by node.exe for addons) first; the DLL CRTs are a fallback for other embedders.
  const toHandle = loadGetOsfHandle();

  const handleOf = (fd: number): bigint => {
    const h = BigInt(toHandle(fd));
    if (h === INVALID_HANDLE_VALUE || h === 0n) throw sysError("_get_osfhandle", "EBADF", -9, `fd ${fd}`);
    return h;
  };
  const fail = (syscall: string): never => {
    const err = GetLastError();
    throw sysError(syscall, `WIN32_ERROR_${err}`, err);
  };

  return {
    directoryLocks: false,
    tryLock(fd) {
      const h = handleOf(fd);
      const flags = LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY;
      if (LockFileEx(h, flags, 0, 0xffffffff, 0xffffffff, overlapped()) !== 0) return "locked";
      const err = GetLastError();
      if (err === ERROR_LOCK_VIOLATION || err === ERROR_SHARING_VIOLATION || err === ERROR_IO_PENDING) {
        return "contended";
      }
      throw sysError("LockFileEx", `WIN32_ERROR_${err}`, err);
    },
    unlock(fd) {
      if (UnlockFileEx(handleOf(fd), 0, 0xffffffff, 0xffffffff, overlapped()) === 0) fail("UnlockFileEx");
    },
  };
}

function loadGetOsfHandle(): (fd: number) => bigint | number {
  const attempts: [string | null, string][] = [
    [null, "intptr_t uv_get_osfhandle(int fd)"], // node.exe itself
    ["ucrtbase.dll", "intptr_t _get_osfhandle(int fd)"],
    ["msvcrt.dll", "intptr_t _get_osfhandle(int fd)"],
  ];
  let lastError: unknown;
  for (const [lib, proto] of attempts) {
    try {
      return koffi.load(lib).func(proto) as (fd: number) => bigint | number;
    } catch (e) {
      lastError = e;
    }
  }
  throw lastError;
}
