// The ztunnel image as an operator gets it, with no Docker engine: built by
// `npm run images` (buildah, FROM scratch), run under podman (runc, vfs
// storage, host network so its readiness port is reachable on loopback), and
// pushed with skopeo to a local docker-registry (Debian's distribution
// registry). Each tool keeps its storage in a temp directory. Bun only: the
// image is the same whichever runtime runs the suite.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { IMAGE_USER } from "../containers/images.ts";
import { ensureBinaries } from "../testing/binaries.ts";
import { afterAll, loopbackAddress, repoRoot, runCommand, runtime, startProcess, test } from "../testing/mod.ts";

const tools = ["buildah", "podman", "skopeo", "runc", "docker-registry"].filter((t) => !fs.existsSync(`/usr/bin/${t}`));
if (runtime === "bun") {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ambit-images-"));
  const storage = ["--storage-driver", "vfs", "--root", path.join(dir, "root"), "--runroot", path.join(dir, "run")];
  // What works here (TEST_PEERS.md): runc (crun fails in cgroups hybrid mode), explicit ulimits (no CAP_SYS_RESOURCE).
  const podman = (args: string[]) => runCommand("podman", [...storage, "--runtime", "runc", "--cgroup-manager", "cgroupfs", "--events-backend", "file", ...args], { timeoutMs: 60_000 });
  const cleanups: (() => Promise<unknown> | void)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("the ztunnel image: built by buildah from scratch, runs under podman as non-root until ready, pushed to a registry with skopeo", async () => {
    assert.deepEqual(tools, [], "missing Debian packages (scripts/test_packages.txt)");
    ensureBinaries(["ztunnel"]);
    const version = JSON.parse(fs.readFileSync(path.join(repoRoot, "package.json"), "utf8")).version as string;
    const image = `localhost/ambit/ztunnel:${version}`;
    const build = () => runCommand(process.execPath, ["scripts/images.ts", "--only", "ztunnel", ...storage.slice(2)], { cwd: repoRoot, timeoutMs: 120_000 });
    const built = await build();
    assert.equal(built.code, 0, built.stderr);
    const id = /\(([0-9a-f]{12})\)/.exec(built.stdout)?.[1];
    assert.ok(id, built.stdout);

    // Run it: a local config, its own loopback address, readiness 200.
    const config = path.join(dir, "config");
    fs.mkdirSync(config, { mode: 0o755 });
    fs.writeFileSync(path.join(config, "mesh.yaml"), "workloads: []\nservices: []\npolicies: []\n", { mode: 0o644 });
    const address = loopbackAddress();
    const run = await podman(["run", "-d", "--name", "ztunnel-test", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", "--network", "host",
      "-v", `${config}:/config:ro`, image, "--node", "node-a", "--address", address, "--local-config", "/config/mesh.yaml"]);
    assert.equal(run.code, 0, run.stderr);
    cleanups.push(() => podman(["rm", "-f", "-t", "1", "ztunnel-test"]));
    const deadline = Date.now() + 20_000;
    let ready: Response | undefined;
    while (Date.now() < deadline && !ready?.ok) {
      ready = await fetch(`http://${address}:15021/healthz/ready`).catch(() => undefined);
      if (!ready?.ok) await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(ready?.status, 200, (await podman(["logs", "ztunnel-test"])).stdout);
    const inspected = JSON.parse((await podman(["inspect", "ztunnel-test"])).stdout)[0];
    assert.equal(inspected.Config.User, `${IMAGE_USER.uid}:${IMAGE_USER.gid}`);

    // Push it to a registry on loopback, and read it back: labels, user, one layer, the epoch as creation time.
    const registryAt = `${loopbackAddress()}:5000`;
    fs.writeFileSync(path.join(dir, "registry.yml"), `version: 0.1\nlog: {level: warn}\nstorage: {filesystem: {rootdirectory: ${dir}/registry}}\nhttp: {addr: "${registryAt}"}\n`);
    const registry = startProcess("docker-registry", ["serve", path.join(dir, "registry.yml")]);
    cleanups.push(async () => (registry.kill("SIGKILL"), await registry.exited));
    const source = `containers-storage:[vfs@${path.join(dir, "root")}+${path.join(dir, "run")}]${image}`;
    const target = `docker://${registryAt}/ambit/ztunnel:${version}`;
    for (const until = Date.now() + 10_000; !(await fetch(`http://${registryAt}/v2/`).then((r) => r.ok, () => false));) {
      if (Date.now() > until) throw new Error(`the registry did not answer on ${registryAt}:\n${registry.lines.join("\n")}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const pushed = await runCommand("skopeo", ["copy", "--dest-tls-verify=false", "--dest-compress-format", "zstd", "--dest-compress-level", "1", source, target], { timeoutMs: 60_000 });
    assert.equal(pushed.code, 0, pushed.stderr);
    const remote = JSON.parse((await runCommand("skopeo", ["inspect", "--tls-verify=false", target])).stdout);
    assert.equal(remote.Labels["org.opencontainers.image.title"], "ambit-ztunnel");
    assert.equal(remote.Labels["org.opencontainers.image.version"], version);
    assert.equal(remote.Created, "1970-01-01T00:00:00Z");
    assert.equal(remote.Layers.length, 1);
    const remoteConfig = JSON.parse((await runCommand("skopeo", ["inspect", "--tls-verify=false", "--config", target])).stdout);
    assert.equal(remoteConfig.config.User, `${IMAGE_USER.uid}:${IMAGE_USER.gid}`);

    // Reproducible: building again gives the same image id.
    const again = await build();
    assert.equal(/\(([0-9a-f]{12})\)/.exec(again.stdout)?.[1], id);
  }, { timeout: 180_000 });
}
