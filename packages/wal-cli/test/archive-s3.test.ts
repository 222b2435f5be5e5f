/**
 * `s3://` targets as real processes: an archive the real archiver wrote to a local S3 server (s3rver) through
 * `s3Archive`, listed, verified and restored with `--endpoint` and `--path-style` (and `AWS_ENDPOINT_URL`), the
 * credentials from the environment; and a `lora-wal` installed without the AWS SDK, which says what to install.
 */

import { join } from "node:path";
import { makeTempDir } from "@lora/test-utils";
import { LOCAL_S3_CREDENTIALS, type LocalS3, startLocalS3 } from "@lora/test-utils/local-s3";
import { fsArchive } from "@lora/wal-archive";
import { s3Archive } from "@lora/wal-archive/s3";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ArchiveCheckReport, ArchiveListing, RestoreSummary } from "../src/index.js";
import { archivedLog, openedTransactions, segmentFacts } from "./archive-helpers.js";
import { bundleCli, runCliProcess } from "./cli-process.js";

const BUCKET = "wal-backups";
const PREFIX = "prod/orders";

let s3: LocalS3;
let bin: string;
beforeAll(async () => {
  [s3, bin] = await Promise.all([startLocalS3(BUCKET), bundleCli()]);
});
afterAll(async () => {
  await s3?.stop();
});

describe("lora-wal with an s3:// target", () => {
  let tmp: { path: string; cleanup(): Promise<void> };
  let env: NodeJS.ProcessEnv;
  beforeEach(async () => {
    tmp = await makeTempDir("lora-wal-archive-s3");
    // Only what the test gives: no region (an endpoint implies us-east-1), no profile or config file of the machine.
    env = {
      PATH: process.env.PATH,
      HOME: tmp.path,
      AWS_ACCESS_KEY_ID: LOCAL_S3_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_S3_CREDENTIALS.secretAccessKey,
      AWS_CONFIG_FILE: join(tmp.path, "no-aws-config"),
      AWS_SHARED_CREDENTIALS_FILE: join(tmp.path, "no-aws-credentials"),
      AWS_EC2_METADATA_DISABLED: "true",
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    };
  });
  afterEach(async () => {
    await tmp.cleanup();
  });

  it("lists, verifies and restores an archive in S3 (--endpoint --path-style, or AWS_ENDPOINT_URL)", async () => {
    const logDir = join(tmp.path, "wal");
    const txs = await archivedLog(logDir, s3Archive({ client: s3.client, bucket: BUCKET, prefix: PREFIX }), 30);
    const original = await segmentFacts(logDir);
    const target = `s3://${BUCKET}/${PREFIX}`;
    const s3Options = ["--endpoint", s3.endpoint, "--path-style"];

    const ls = await runCliProcess(bin, ["archive", "ls", target, ...s3Options, "--json"], { env });
    expect(ls.code, ls.stderr).toBe(0);
    expect(ls.stderr).toBe("");
    const listing = JSON.parse(ls.stdout) as ArchiveListing;
    expect(listing.archive).toBe(`s3://${BUCKET}/${PREFIX}`);
    expect(listing.segments.map((s) => [s.name, s.baseLsn, s.byteRange.to])).toEqual(
      original.map((s) => [s.name, s.baseLsn, s.size]),
    );
    expect(listing.segments.map((s) => s.source)).toEqual([...original.slice(1).map(() => "sealed"), "pieces"]);

    // The same listing with the endpoint from the environment (and a trailing "/" on the prefix).
    const fromEnv = await runCliProcess(bin, ["archive", "ls", `${target}/`, "--path-style", "--json"], {
      env: { ...env, AWS_ENDPOINT_URL: s3.endpoint },
    });
    expect(fromEnv.code, fromEnv.stderr).toBe(0);
    expect(JSON.parse(fromEnv.stdout)).toEqual(listing);

    const verify = await runCliProcess(bin, ["archive", "verify", target, ...s3Options, "--json"], { env });
    expect(verify.code, verify.stderr).toBe(0);
    const report = JSON.parse(verify.stdout) as ArchiveCheckReport;
    expect(report).toMatchObject({ status: "clean", segments: original.length, firstLsn: 1, problems: [] });
    expect(report.lastLsn).toBe(txs.at(-1)?.commitLsn);

    const restored = join(tmp.path, "restored");
    const restore = await runCliProcess(bin, ["restore", target, restored, ...s3Options, "--json"], { env });
    expect(restore.code, restore.stderr).toBe(0);
    expect(restore.stderr).toBe("");
    expect(JSON.parse(restore.stdout) as RestoreSummary).toEqual({
      archive: `s3://${BUCKET}/${PREFIX}`,
      dir: restored,
      fromLsn: null,
      toLsn: null,
      segments: original.length,
      bytes: original.reduce((n, s) => n + s.size, 0),
      objects: listing.totals.objects,
      firstLsn: 1,
      lastLsn: txs.at(-1)?.commitLsn,
      successor: null,
      lockReleaseFailure: null,
    });
    expect(await openedTransactions(restored)).toEqual(txs);

    // Another prefix of the bucket holds nothing: ls says so, verify and restore refuse.
    const elsewhere = `s3://${BUCKET}/staging`;
    const empty = await runCliProcess(bin, ["archive", "ls", elsewhere, ...s3Options], { env });
    expect(empty.code, empty.stderr).toBe(0);
    expect(empty.stdout).toContain("segments   none (nothing archived here yet)");
    expect((await runCliProcess(bin, ["archive", "verify", elsewhere, ...s3Options], { env })).code).toBe(8);
  });

  it("a bucket that does not exist, or a server that does not answer, is exit 4 with the store's error", async () => {
    const noBucket = await runCliProcess(
      bin,
      ["archive", "ls", "s3://no-such-bucket/x", "--endpoint", s3.endpoint, "--path-style"],
      { env },
    );
    expect(noBucket.code).toBe(4);
    expect(noBucket.stderr).toContain("s3://no-such-bucket/x");
    expect(noBucket.stderr).toContain("(WAL_IO)");
    // Port 9 (discard) on loopback: nothing listens there; the SDK gives up after its attempts.
    const down = await runCliProcess(
      bin,
      ["archive", "verify", `s3://${BUCKET}/x`, "--endpoint", "http://127.0.0.1:9", "--path-style"],
      { env: { ...env, AWS_MAX_ATTEMPTS: "1" } },
    );
    expect(down.code).toBe(4);
    expect(down.stderr).toContain("(WAL_IO)");
  });

  it("installed without @aws-sdk/client-s3: s3:// targets say what to install (exit 3), directories still work", async () => {
    const withoutSdk = await bundleCli({ s3Sdk: false });
    const run = await runCliProcess(
      withoutSdk,
      ["archive", "ls", `s3://${BUCKET}/${PREFIX}`, "--endpoint", s3.endpoint, "--path-style"],
      { env },
    );
    expect(run.code).toBe(3);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain(
      "s3:// targets need the AWS SDK for JavaScript v3, and @aws-sdk/client-s3 is not installed: install it where lora-wal is installed (npm install @aws-sdk/client-s3",
    );
    const restore = await runCliProcess(withoutSdk, ["restore", `s3://${BUCKET}`, join(tmp.path, "r")], { env });
    expect(restore.code).toBe(3);
    expect(restore.stderr).toContain("@aws-sdk/client-s3 is not installed");

    const archiveDir = join(tmp.path, "archive");
    await archivedLog(join(tmp.path, "wal"), fsArchive(archiveDir), 4);
    const local = await runCliProcess(withoutSdk, ["archive", "verify", archiveDir], { env });
    expect(local.code, local.stderr).toBe(0);
    expect(local.stdout).toContain("result     clean");
  });
});
