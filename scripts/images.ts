// `npm run images`: the OCI images of containers/images.ts, with buildah and
// no Docker engine. Each is FROM scratch: the compiled binary, the glibc files
// `ldd` says it loads, /etc/passwd and /etc/group naming the non-root user,
// a writable /tmp and working directory. Reproducible: every timestamp is the
// epoch (buildah --timestamp 0) and the context is built the same way each
// time, so one checkout gives one digest.
//   bun scripts/images.ts [--only ztunnel,…] [--root DIR --runroot DIR] [--tag 0.1.0] [--oci-dir dist/images]
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { IMAGE_USER, IMAGES, type ImageSpec } from "../containers/images.ts";

const root = path.join(import.meta.dirname, "..");
const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const version = (JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { version: string }).version;
const tag = flag("tag") ?? version;
const only = flag("only")?.split(",");
/** Storage for buildah (and podman, given the same flags): containers-storage with the vfs driver. */
const storage = ["--storage-driver", "vfs", ...(flag("root") ? ["--root", flag("root")!] : []), ...(flag("runroot") ? ["--runroot", flag("runroot")!] : [])];
const ociDir = flag("oci-dir");
const revision = (() => {
  try {
    return execFileSync("git", ["rev-parse", "HEAD"], { cwd: root, encoding: "utf8" }).trim();
  } catch {
    return "unknown";
  }
})();

const wanted = IMAGES.filter((i) => fs.existsSync(path.join(root, i.entry)) && (!only || only.includes(i.name)));
if (wanted.length === 0) throw new Error(`no image to build (known: ${IMAGES.map((i) => i.name).join(", ")})`);
if (wanted.some((i) => !fs.existsSync(path.join(root, "dist", i.name)))) {
  execFileSync(process.execPath, [path.join(root, "scripts", "build.ts")], { cwd: root, stdio: "inherit" });
}
for (const image of wanted) {
  const started = Date.now();
  const context = fs.mkdtempSync(path.join(os.tmpdir(), `ambit-image-${image.name}-`));
  try {
    writeContext(image, context);
    const name = `localhost/ambit/${image.name}:${tag}`;
    execFileSync("buildah", [
      ...storage, "bud", "--format", "oci", "--timestamp", "0", "--layers=false", "--no-cache", "-t", name, "-f", path.join(context, "Containerfile"), context,
    ], { stdio: ["ignore", "ignore", "inherit"] });
    if (ociDir) {
      fs.mkdirSync(ociDir, { recursive: true });
      execFileSync("buildah", [...storage, "push", name, `oci-archive:${path.join(ociDir, `${image.name}.tar`)}:${name}`], { stdio: ["ignore", "ignore", "inherit"] });
    }
    const id = execFileSync("buildah", [...storage, "images", "--format", "{{.ID}}", name], { encoding: "utf8" }).trim();
    console.log(`built ${name} (${id}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    fs.rmSync(context, { recursive: true, force: true });
  }
}

/** The build context: rootfs/ (binary, libraries, users), state/ (the writable working directory), Containerfile. */
function writeContext(image: ImageSpec, context: string): void {
  const rootfs = path.join(context, "rootfs");
  const binary = path.join(root, "dist", image.name);
  copyInto(rootfs, binary, `/usr/local/bin/${image.name}`);
  for (const lib of linkedLibraries(binary)) copyInto(rootfs, lib, lib);
  fs.mkdirSync(path.join(rootfs, "etc"), { recursive: true });
  fs.writeFileSync(path.join(rootfs, "etc", "passwd"), `root:x:0:0:root:/root:/sbin/nologin\n${IMAGE_USER.name}:x:${IMAGE_USER.uid}:${IMAGE_USER.gid}:${IMAGE_USER.name}:/var/lib/ambit:/sbin/nologin\n`);
  fs.writeFileSync(path.join(rootfs, "etc", "group"), `root:x:0:\n${IMAGE_USER.name}:x:${IMAGE_USER.gid}:\n`);
  fs.mkdirSync(path.join(rootfs, "tmp"), { mode: 0o1777 });
  fs.chmodSync(path.join(rootfs, "tmp"), 0o1777);
  fs.mkdirSync(path.join(context, "state"));
  fs.writeFileSync(path.join(context, "state", ".keep"), "");
  const labels: Record<string, string> = {
    "org.opencontainers.image.title": `ambit-${image.name}`,
    "org.opencontainers.image.description": image.description,
    "org.opencontainers.image.version": version,
    "org.opencontainers.image.revision": revision,
    "org.opencontainers.image.vendor": "Ambit",
    "org.opencontainers.image.created": "1970-01-01T00:00:00Z",
  };
  fs.writeFileSync(path.join(context, "Containerfile"), [
    "FROM scratch",
    "COPY rootfs/ /",
    `COPY --chown=${IMAGE_USER.uid}:${IMAGE_USER.gid} state/ /var/lib/ambit/`,
    ...Object.entries(labels).map(([k, v]) => `LABEL ${k}=${JSON.stringify(v)}`),
    ...(image.ports.length ? [`EXPOSE ${image.ports.join(" ")}`] : []),
    `USER ${IMAGE_USER.uid}:${IMAGE_USER.gid}`,
    "WORKDIR /var/lib/ambit",
    `ENTRYPOINT ${JSON.stringify([`/usr/local/bin/${image.name}`])}`,
    ...(image.defaultArgs ? [`CMD ${JSON.stringify(image.defaultArgs)}`] : []),
    "",
  ].join("\n"));
}

/** What the dynamic loader maps for `binary`: ldd's absolute paths (the loader itself included). */
function linkedLibraries(binary: string): string[] {
  const out = execFileSync("ldd", [binary], { encoding: "utf8" });
  return [...out.matchAll(/(\/\S+) \(0x/g)].map((m) => m[1]!);
}

/** Copies `from` to `to` inside rootfs, following symlinks (the image gets real files). */
function copyInto(rootfs: string, from: string, to: string): void {
  const dest = path.join(rootfs, to);
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  fs.copyFileSync(fs.realpathSync(from), dest);
  fs.chmodSync(dest, 0o755);
}
