#!/usr/bin/env bash
# Pack-and-install smoke test of the published shape: builds, `pnpm pack`s every public package, installs the
# tarballs with npm into a scratch project outside the repository, and runs a short program against them from ESM
# (`import`) and CommonJS (`require`, which loads these ESM-only packages on Node >= 20.19), plus the `lora-wal` bin.
# Catches what in-repo tests cannot: a missing file in `files`, a `workspace:` range left in a manifest, an export
# condition that only works with the @lora/source condition, a dependency that is only a devDependency.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

PACKAGES=(wal-codec wal-segment wal-replay wal-lock wal wal-archive wal-cli)

work=$(mktemp -d "${TMPDIR:-/tmp}/lora-wal-pack-smoke.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/tarballs" "$work/project"

echo "pack-smoke: building"
pnpm exec turbo run build --filter=@lora/wal-cli... --filter=@lora/wal-archive... --output-logs=errors-only

for p in "${PACKAGES[@]}"; do
  (cd "packages/$p" && pnpm pack --pack-destination "$work/tarballs" >/dev/null)
done
echo "pack-smoke: packed $(ls "$work/tarballs" | tr '\n' ' ')"
if tar -xOzf "$work/tarballs"/lora-wal-0*.tgz package/package.json | grep -q 'workspace:'; then
  echo "pack-smoke: a packed manifest still has a workspace: range" >&2
  exit 1
fi

cd "$work/project"
cat > package.json <<'JSON'
{ "name": "lora-wal-pack-smoke", "version": "0.0.0", "private": true }
JSON
# Only koffi (a dependency of @lora/wal-lock) comes from the registry; the @lora packages come from the tarballs.
npm install --no-audit --no-fund --loglevel=error "$work"/tarballs/*.tgz
# Every @lora package (nested ones included) must come from a tarball, never from the registry.
node -e '
  const lock = require("./package-lock.json");
  const lora = Object.entries(lock.packages).filter(([path]) => path.includes("node_modules/@lora/"));
  const bad = lora.filter(([, entry]) => !String(entry.resolved).startsWith("file:"));
  if (lora.length !== 7 || bad.length > 0) {
    console.error("pack-smoke: @lora packages not all from the tarballs:", JSON.stringify(lora, null, 2));
    process.exit(1);
  }
'

cat > smoke.mjs <<'JS'
import assert from "node:assert/strict";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { verifyDir } from "@lora/wal-cli";
import { Wal, jsonCodec, isWalError } from "@lora/wal";
import { probeDirLock } from "@lora/wal-lock";
import { followDir, readCommitted, replayDir } from "@lora/wal-replay";
import { SimFS } from "@lora/wal-segment/testing";
import { fsArchive, restore, startArchiver } from "@lora/wal-archive";

const dir = await mkdtemp(join(tmpdir(), "lora-wal-smoke-esm-"));
const first = await Wal.open(dir, { codec: jsonCodec });
assert.deepEqual(first.events, []);
const info = await first.wal.commitTx([{ put: "a", value: 1 }, { del: "b" }]);
assert.deepEqual(info, { beginLsn: 1, commitLsn: 3 });
await first.wal.close();

const second = await Wal.open(dir, { codec: jsonCodec });
assert.deepEqual(second.events, [{ put: "a", value: 1 }, { del: "b" }]);
// The lock package on its own (koffi loaded from the install): held while a handle is open, free after.
assert.equal(await probeDirLock(dir), "held");
await second.wal.close();
assert.equal(await probeDirLock(dir), "free");

const txs = [];
for await (const tx of replayDir(dir, { codec: jsonCodec })) txs.push(tx);
assert.equal(txs.length, 1);
assert.equal((await verifyDir(dir, { codec: "json" })).verdict.exitCode, 0);
assert.equal(isWalError(new Error("x")), false);
assert.equal(new SimFS().name, "sim");

// The change feed and the archive, from the tarballs.
const bounded = [];
for await (const tx of readCommitted(dir, { codec: jsonCodec, after: 0 })) bounded.push(tx.commitLsn);
assert.deepEqual(bounded, [3]);
const stop = new AbortController();
const feed = followDir(dir, { codec: jsonCodec, signal: stop.signal });
assert.equal((await feed.next()).value.commitLsn, 3);
stop.abort();
const third = await Wal.open(dir, { codec: jsonCodec });
const store = fsArchive(join(dir, "..", `${dir.split("/").pop()}-archive`));
const archiver = startArchiver(third.wal, { store });
await third.wal.commitTx([{ put: "c", value: 3 }]);
await archiver.flush();
await archiver.stop();
await third.wal.close();
const restoredDir = `${dir}-restored`;
await restore({ store, dir: restoredDir });
const restored = await Wal.open(restoredDir, { codec: jsonCodec });
assert.equal(restored.events.length, 3);
await restored.wal.close();
console.log(`esm ok: ${dir}`);
JS

cat > smoke.cjs <<'JS'
const assert = require("node:assert/strict");
const { mkdtempSync } = require("node:fs");
const { tmpdir } = require("node:os");
const { join } = require("node:path");
const { Wal, jsonCodec } = require("@lora/wal");
const { decodeRecord, encodeRecord } = require("@lora/wal-codec");

async function main() {
  const dir = mkdtempSync(join(tmpdir(), "lora-wal-smoke-cjs-"));
  const first = await Wal.open(dir, { codec: jsonCodec });
  await first.wal.commitTx([{ put: "k", value: [1, 2, 3] }]);
  await first.wal.close();
  const second = await Wal.open(dir, { codec: jsonCodec });
  assert.deepEqual(second.events, [{ put: "k", value: [1, 2, 3] }]);
  await second.wal.close();
  const bytes = encodeRecord({ kind: "txBegin", lsn: 1 }, jsonCodec);
  assert.equal(decodeRecord(bytes, 0, jsonCodec).kind, "record");
  console.log(`cjs ok: ${dir}`);
  return dir;
}
main().then(
  (dir) => process.stdout.write(`${dir}\n`),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
JS

# The programs make their logs under $TMPDIR: keep them inside the scratch dir so the trap removes them.
export TMPDIR=$work
node smoke.mjs
# require(esm) prints an ExperimentalWarning on Node 20/22; it is expected here.
cjs_dir=$(node --no-warnings smoke.cjs | tail -n 1)
# The bin, as `npx lora-wal` would run it, on the log the CommonJS run wrote.
npx --no-install lora-wal verify "$cjs_dir" --codec json
npx --no-install lora-wal --version
echo "pack-smoke: ok"
