/**
 * What `archive ls|verify` and `restore` read: an archive written by `@lora/wal-archive`'s archiver, in a directory
 * (`fsArchive`, through the CLI's read-only file system) or in S3 or an S3-compatible service (`s3Archive`, named
 * `s3://bucket[/prefix]`). The AWS SDK is an optional peer dependency: it is loaded only for an `s3://` target, and
 * its absence is a clear error, not a crash at start-up.
 */

import { type ArchiveStore, fsArchive } from "@lora/wal-archive";
import { isWalError, WalError } from "@lora/wal-codec";
import { LOCK_FILE_NAME } from "@lora/wal-lock";
import { parseSegmentId } from "@lora/wal-segment";
import { UsageError } from "../cli-context.js";
import { createReadOnlyFileSystem } from "./read-only-fs.js";

/** The package `s3://` targets need. */
export const S3_SDK_PACKAGE = "@aws-sdk/client-s3";

/** A parsed `<target>`. */
export type ArchiveTarget =
  | { readonly kind: "directory"; readonly path: string }
  | { readonly kind: "s3"; readonly bucket: string; readonly prefix: string };

/** How to reach an `s3://` target besides the AWS SDK's own configuration. */
export interface S3TargetOptions {
  /** `--endpoint`: the service's URL. @default `AWS_ENDPOINT_URL_S3`, then `AWS_ENDPOINT_URL`, then AWS's own */
  readonly endpoint?: string | undefined;
  /** `--path-style`: `http://host/bucket/key` requests, as most S3-compatible services need. @default false */
  readonly pathStyle?: boolean | undefined;
  /** Where `AWS_*` variables are read from (the SDK itself reads `process.env` for credentials and profiles). */
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** An archive store ready to read, and how to let go of it. */
export interface OpenedArchive {
  readonly store: ArchiveStore;
  /**
   * Whether a directory target holds a write-ahead log's own files (segments or its lock file) at its top, where an
   * archive keeps none: a log named where its archive was meant, which an empty listing alone would not tell. Asked
   * only for the note after an empty listing; advice, so it never fails (a name it cannot read, or a directory it
   * cannot list, is no log) and never changes what a command answers.
   */
  holdsLog(): Promise<boolean>;
  /** Close the S3 client's connections (nothing to do for a directory). */
  close(): void;
}

/**
 * Parse `<target>`: `s3://bucket[/prefix]`, or anything without a `scheme://` as a directory path.
 * @throws {@link UsageError} an empty target or bucket, or another scheme.
 */
export function parseArchiveTarget(target: string, command: string): ArchiveTarget {
  if (target === "") throw new UsageError("<target> is empty (a directory or s3://bucket[/prefix])", command);
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(target)?.[1];
  if (scheme === undefined) return { kind: "directory", path: target };
  if (scheme.toLowerCase() !== "s3") {
    throw new UsageError(
      `unsupported archive target ${JSON.stringify(target)}: give a directory or s3://bucket[/prefix]`,
      command,
    );
  }
  const rest = target.slice(scheme.length + 3);
  const slash = rest.indexOf("/");
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  if (bucket === "") throw new UsageError(`no bucket in ${JSON.stringify(target)} (s3://bucket[/prefix])`, command);
  // A trailing "/" is optional, as for the store's prefix.
  const prefix = slash < 0 ? "" : rest.slice(slash + 1).replace(/\/$/, "");
  return { kind: "s3", bucket, prefix };
}

/**
 * Open `<target>` for reading. A directory is read through the read-only file system, so nothing in it can change;
 * it must exist (an empty directory is an archive with nothing in it).
 * @throws {@link UsageError} a bad target, S3 options with a directory, a bad endpoint, `@aws-sdk/client-s3` not
 *   installed. {@link WalError} `WAL_IO`: the directory is missing (`details.errno` `ENOENT`) or not a directory.
 */
export async function openArchiveTarget(
  target: string,
  command: string,
  options: S3TargetOptions,
): Promise<OpenedArchive> {
  const parsed = parseArchiveTarget(target, command);
  if (parsed.kind === "directory") {
    if (options.endpoint !== undefined || options.pathStyle === true) {
      throw new UsageError("--endpoint and --path-style go with an s3:// target", command);
    }
    const fs = createReadOnlyFileSystem();
    const stat = await fs.stat(parsed.path);
    if (stat === null) {
      throw new WalError("WAL_IO", `no such archive directory: ${parsed.path}`, {
        details: { path: parsed.path, syscall: "stat", errno: "ENOENT" },
      });
    }
    if (!stat.isDirectory) {
      throw new WalError(
        "WAL_IO",
        `not a directory: ${parsed.path} (an archive is a directory or s3://bucket[/prefix])`,
        {
          details: { path: parsed.path, syscall: "stat", errno: "ENOTDIR" },
        },
      );
    }
    const path = parsed.path;
    const holdsLog = async () => {
      const names = await fs.readdir(path).catch(() => [] as string[]);
      return names.some((name) => name === LOCK_FILE_NAME || isSegmentName(name));
    };
    return { store: fsArchive(path, { fs }), holdsLog, close: () => undefined };
  }

  const endpoint = s3Endpoint(options, command);
  const { S3Client, s3Archive } = await loadS3Support(command);
  const env = options.env;
  const region =
    nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION) ?? (endpoint === undefined ? undefined : "us-east-1");
  const client = new S3Client({
    ...(region === undefined ? {} : { region }),
    ...(endpoint === undefined ? {} : { endpoint }),
    ...(options.pathStyle === true ? { forcePathStyle: true } : {}),
  });
  try {
    return {
      store: s3Archive({ client, bucket: parsed.bucket, prefix: parsed.prefix }),
      holdsLog: () => Promise.resolve(false),
      close: () => client.destroy(),
    };
  } catch (error) {
    client.destroy();
    if (isWalError(error, "WAL_INVALID_OPTION")) {
      const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
      throw new UsageError(`invalid archive target ${JSON.stringify(target)}: ${error.message}${cause}`, command);
    }
    throw error;
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

/** `--endpoint`, else the standard variables; an http(s) URL or a usage error naming where it came from. */
function s3Endpoint(options: S3TargetOptions, command: string): string | undefined {
  const sources: [string, string | undefined][] = [
    ["--endpoint", options.endpoint],
    ["AWS_ENDPOINT_URL_S3", nonEmpty(options.env.AWS_ENDPOINT_URL_S3)],
    ["AWS_ENDPOINT_URL", nonEmpty(options.env.AWS_ENDPOINT_URL)],
  ];
  const found = sources.find(([, value]) => value !== undefined);
  if (found === undefined) return undefined;
  const [from, value] = found as [string, string];
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:")) {
    throw new UsageError(`${from} must be an http:// or https:// URL, got ${JSON.stringify(value)}`, command);
  }
  return value;
}

/** True for the error `import(name)` rejects with when the package `name` is not installed where it is looked for. */
export function isMissingPackage(error: unknown, name: string): boolean {
  return (
    error instanceof Error &&
    (error as NodeJS.ErrnoException).code === "ERR_MODULE_NOT_FOUND" &&
    error.message.includes(`'${name}'`)
  );
}

/** The SDK's client and the archive's S3 store, loaded on demand. */
async function loadS3Support(command: string) {
  let sdk: typeof import("@aws-sdk/client-s3");
  try {
    sdk = await import("@aws-sdk/client-s3");
  } catch (error) {
    if (!isMissingPackage(error, S3_SDK_PACKAGE)) throw error;
    throw new UsageError(
      `s3:// targets need the AWS SDK for JavaScript v3, and ${S3_SDK_PACKAGE} is not installed: install it where lora-wal is installed (npm install ${S3_SDK_PACKAGE}; beside a global lora-wal: npm install -g ${S3_SDK_PACKAGE})`,
      command,
    );
  }
  // `@lora/wal-archive/s3` imports the SDK itself: loaded only once the SDK is known to be there.
  const { s3Archive } = await import("@lora/wal-archive/s3");
  return { S3Client: sdk.S3Client, s3Archive };
}

/** A name the log would open as a segment (`parseSegmentId` throws for an id above 2^53: no segment a log holds). */
function isSegmentName(name: string): boolean {
  try {
    return parseSegmentId(name) !== undefined;
  } catch {
    return false;
  }
}
