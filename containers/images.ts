/**
 * The OCI images `npm run images` builds (scripts/images.ts): one per service
 * binary of `npm run build`, each FROM scratch with only the binary, the glibc
 * files it links (ldd), and a non-root user. One line per image: an image
 * whose entry point is not in the checkout (the waypoint, until it lands) is
 * skipped.
 *
 * @example
 * ```ts
 * for (const image of IMAGES) console.log(image.name, image.ports);
 * ```
 * @module
 */

/** One image. */
export interface ImageSpec {
  /** Image name (`ambit/<name>`) and the binary in dist/. */
  readonly name: string;
  /** The source entry point; no image when it does not exist. */
  readonly entry: string;
  readonly description: string;
  /** Ports the service listens on, for `EXPOSE`. */
  readonly ports: readonly number[];
  /** Arguments after the binary when none are given. */
  readonly defaultArgs?: readonly string[];
}

export const IMAGES: readonly ImageSpec[] = [
  { name: "ztunnel", entry: "ztunnel/main.ts", description: "Ambit ztunnel: the L4 node proxy (SOCKS5, HBONE, inbound, metrics, readiness)", ports: [15001, 15006, 15008, 15020, 15021, 15080, 15000] },
  { name: "controlplane", entry: "controlplane/main.ts", description: "Ambit controlplane: config intake, translation, delta xDS and the CA", ports: [15012] },
  { name: "waypoint", entry: "waypoint/main.ts", description: "Ambit waypoint: the L7 proxy", ports: [15008, 15020, 15021] },
  { name: "ambit", entry: "cli/main.ts", description: "ambit: the Ambit CLI", ports: [], defaultArgs: ["--help"] },
];

/** The unprivileged user every image runs as (distroless's "nonroot"). */
export const IMAGE_USER = { uid: 65532, gid: 65532, name: "nonroot" } as const;
