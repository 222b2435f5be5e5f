/**
 * The log directory survives power loss however it came to exist: created by this open (each new directory's parent
 * fsynced), or found empty, as an open killed between its mkdir and that fsync leaves it (its parent fsynced again
 * before the first segment is written there). An existing log does not fsync its parent.
 */

import { jsonCodec, WalError } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { PassThroughFs } from "../test/pass-through-fs.js";
import { Wal } from "./wal.js";

/** SimFS recording the directories fsynced, optionally refusing the fsync of some with `errno`. */
class DirSyncLog extends PassThroughFs {
  readonly synced: string[] = [];
  refuse: { path: string; errno: string } | undefined;
  override async syncDir(p: string): Promise<void> {
    if (this.refuse?.path === p) {
      throw new WalError("WAL_IO", `open ${p}: ${this.refuse.errno}`, { details: { errno: this.refuse.errno } });
    }
    this.synced.push(p);
    return this.inner.syncDir(p);
  }
}

async function openClose(fs: DirSyncLog, dir: string): Promise<void> {
  const { wal } = await Wal.open(dir, { fs, codec: jsonCodec });
  await wal.commitTx(["x"]);
  await wal.close();
}

describe("the log directory's own entry", () => {
  it("is fsynced in each parent created, for a new directory", async () => {
    const fs = new DirSyncLog(SimFS.withDir("/data"));
    await openClose(fs, "/data/a/wal");
    expect(fs.synced).toEqual(expect.arrayContaining(["/data", "/data/a"]));
  });

  it("is fsynced again when the directory exists but holds no segment (an open killed after its mkdir)", async () => {
    const sim = SimFS.withDir("/data");
    sim.mkdirpSync("/data/wal");
    const fs = new DirSyncLog(sim);
    await openClose(fs, "/data/wal");
    expect(fs.synced).toContain("/data");
  });

  it("is fsynced again up to the root when the directory exists but holds no segment (a killed open's mkdirp)", async () => {
    const sim = SimFS.withDir("/data");
    sim.mkdirpSync("/data/a/b/wal");
    const fs = new DirSyncLog(sim);
    await openClose(fs, "/data/a/b/wal");
    expect(fs.synced).toEqual(expect.arrayContaining(["/data/a/b", "/data/a", "/data", "/"]));
    // One that cannot be synced is skipped, and the ones above it are still synced.
    const skipping = new DirSyncLog(SimFS.withDir("/data"));
    (skipping.inner as SimFS).mkdirpSync("/data/a/wal");
    skipping.refuse = { path: "/data/a", errno: "EACCES" };
    await openClose(skipping, "/data/a/wal");
    expect(skipping.synced).toEqual(expect.arrayContaining(["/data", "/"]));
  });

  it("is fsynced up to the root when an earlier open created only some levels (killed inside its mkdirp)", async () => {
    // That open made /data/a and died before /data/a/wal: /data's entry for a may not be on disk, and this open,
    // which creates only wal, finds /data/a as it finds any existing directory.
    const sim = SimFS.withDir("/data");
    sim.mkdirpSync("/data/a");
    const fs = new DirSyncLog(sim);
    await openClose(fs, "/data/a/wal");
    expect(fs.synced).toEqual(expect.arrayContaining(["/data/a", "/data", "/"]));
    // An ancestor above the ones created that cannot be synced is skipped, as for an empty directory.
    const skipping = new DirSyncLog(SimFS.withDir("/data"));
    (skipping.inner as SimFS).mkdirpSync("/data/a");
    skipping.refuse = { path: "/data", errno: "EACCES" };
    await openClose(skipping, "/data/a/wal");
    expect(skipping.synced).toEqual(expect.arrayContaining(["/data/a", "/"]));
  });

  it("an ancestor whose fsync fails as directories' do where they cannot be fsynced (EBADF, EISDIR) is skipped", async () => {
    // PostgreSQL's fsync_fname_ext ignores these two for a directory: some systems open a directory but refuse its
    // fsync. Only the directories above the ones created were synced before the ancestors were: a first open below
    // such a root must still open, as must an empty directory found there.
    for (const errno of ["EBADF", "EISDIR"]) {
      const fresh = new DirSyncLog(SimFS.withDir("/data"));
      fresh.refuse = { path: "/", errno };
      await openClose(fresh, "/data/a/wal");
      expect(fresh.synced).toEqual(expect.arrayContaining(["/data", "/data/a"]));
      const empty = new DirSyncLog(SimFS.withDir("/data"));
      (empty.inner as SimFS).mkdirpSync("/data/wal");
      empty.refuse = { path: "/", errno };
      await openClose(empty, "/data/wal");
      expect(empty.synced).toContain("/data");
    }
  });

  it("a failure to fsync a directory above the ones it must sync is ignored; below, it fails the open", async () => {
    // Above the parent of an empty directory, or above the levels created, a directory is only maybe one a killed
    // open created: an open that worked before these fsyncs were made must still work.
    const empty = new DirSyncLog(SimFS.withDir("/data"));
    (empty.inner as SimFS).mkdirpSync("/data/a/wal");
    empty.refuse = { path: "/data", errno: "EIO" };
    await openClose(empty, "/data/a/wal");
    expect(empty.synced).toEqual(expect.arrayContaining(["/data/a", "/"]));
    const fresh = new DirSyncLog(SimFS.withDir("/data"));
    fresh.refuse = { path: "/", errno: "EIO" };
    await openClose(fresh, "/data/a/wal");
    expect(fresh.synced).toEqual(expect.arrayContaining(["/data", "/data/a"]));
    // The parent of a level this open created is not above: its failure fails the open.
    const created = new DirSyncLog(SimFS.withDir("/data"));
    created.refuse = { path: "/data", errno: "EIO" };
    await expect(Wal.open("/data/a/wal", { fs: created, codec: jsonCodec })).rejects.toMatchObject({
      code: "WAL_IO",
    });
  });

  it("is not fsynced again for an existing log", async () => {
    const sim = SimFS.withDir("/data");
    await openClose(new DirSyncLog(sim), "/data/wal");
    const fs = new DirSyncLog(sim);
    await openClose(fs, "/data/wal");
    expect(fs.synced).not.toContain("/data");
  });

  it("is fsynced again when the directory holds files but no segment (an open killed after taking its lock)", async () => {
    const sim = SimFS.withDir("/data");
    await openClose(new DirSyncLog(sim), "/data/wal");
    for (const name of sim.listSync("/data/wal")) if (name.endsWith(".wal")) await sim.unlink(`/data/wal/${name}`);
    expect(sim.listSync("/data/wal").length).toBeGreaterThan(0); // the lock and durable-mark files
    const fs = new DirSyncLog(sim);
    await openClose(fs, "/data/wal");
    expect(fs.synced).toContain("/data");
  });

  it("an empty directory whose parent this process may not open still opens; other failures fail the open", async () => {
    const sim = SimFS.withDir("/data");
    sim.mkdirpSync("/data/wal");
    const fs = new DirSyncLog(sim);
    for (const errno of ["EACCES", "EROFS", "EINVAL"]) {
      fs.refuse = { path: "/data", errno };
      await openClose(fs, "/data/wal");
      // No segment again (the lock and durable-mark files left do not count).
      for (const name of sim.listSync("/data/wal")) if (name.endsWith(".wal")) await sim.unlink(`/data/wal/${name}`);
    }
    const other = new DirSyncLog(SimFS.withDir("/data"));
    (other.inner as SimFS).mkdirpSync("/data/wal");
    other.refuse = { path: "/data", errno: "EIO" };
    await expect(Wal.open("/data/wal", { fs: other, codec: jsonCodec })).rejects.toMatchObject({ code: "WAL_IO" });
    // A failure that names no errno at all (a custom file system's own error) is not taken for a refusal either.
    const plain = new (class extends PassThroughFs {
      override async syncDir(p: string): Promise<void> {
        if (p === "/data") throw new Error("the parent's fsync failed");
        return this.inner.syncDir(p);
      }
    })(SimFS.withDir("/data/wal"));
    await expect(Wal.open("/data/wal", { fs: plain, codec: jsonCodec })).rejects.toThrow("the parent's fsync failed");
  });
});
