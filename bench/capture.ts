// Transparent capture against SOCKS5 on the same path, in the same run: a client
// on test host A reaches a sink and an echo on host B through the two ztunnels
// over HBONE, once as the captured workload's user dialling the sink directly
// (nftables → 15001 → original destination → outbound), once as an uncaptured
// user through the workload's SOCKS5 listener. Needs root (network namespaces);
// rounds alternate so load from elsewhere on the machine hits both alike.
import { CLIENT_UID, createCaptureMesh, netnsUnavailable, repoRoot, socksCredentialsAt, UNCAPTURED_UID } from "../testing/mod.ts";
import { markdownTable } from "./_measure.ts";

const SINK_PORT = 8080;
const ECHO_PORT = 8081;
const ROUNDS = 3;

interface Reading {
  readonly firstEchoP50Us: number;
  readonly opensPerSecond: number;
  readonly mibPerSecond: number;
}

export async function bench(): Promise<string> {
  const header = "## Transparent capture vs SOCKS5 (bench/capture.ts)\n";
  const unavailable = netnsUnavailable();
  if (unavailable) return `${header}\nNot run: ${unavailable}.\n`;
  const mesh = await createCaptureMesh({ helloPorts: { [SINK_PORT]: SINK_PORT, [ECHO_PORT]: ECHO_PORT } });
  try {
    const { a, b } = mesh.hosts;
    const servers = mesh.start(b, process.execPath, ["run", `${repoRoot}/bench/_l4_servers.ts`, mesh.ip.hello, String(SINK_PORT), String(ECHO_PORT)]);
    await servers.waitForLine(/"sink"/);
    await mesh.ztunnel(a, "node-a");
    await mesh.ztunnel(b, "node-b");
    await mesh.cli(a, ["capture", "install"]);
    await mesh.cli(b, ["capture", "install"]);
    // The SOCKS5 client speaks as the client workload: with the credentials its ztunnel wrote for it (docs/security.md).
    const credentials = socksCredentialsAt({ address: mesh.ip.client, port: 15080 });
    if (!credentials) throw new Error(`node-a wrote no SOCKS5 credentials for ${mesh.ip.client}`);
    const run = async (mode: "captured" | "socks"): Promise<Reading> => {
      const uid = mode === "captured" ? CLIENT_UID : UNCAPTURED_UID;
      const r = await mesh.runAs(a, uid, "env", [
        "HOME=/tmp", `AMBIT_BENCH_SOCKS_USER=${credentials.username}`, `AMBIT_BENCH_SOCKS_PASSWORD=${credentials.password}`, "BUN_RUNTIME_TRANSPILER_CACHE_PATH=0", process.execPath, "run", `${repoRoot}/bench/_capture_client.ts`,
        mode, mesh.ip.hello, String(SINK_PORT), String(ECHO_PORT), mesh.ip.client,
      ]);
      if (r.code !== 0) throw new Error(`${mode} client failed: ${r.stderr}`);
      return JSON.parse(r.stdout.trim().split("\n").pop()!) as Reading;
    };
    const readings: Record<"captured" | "socks", Reading[]> = { captured: [], socks: [] };
    for (let i = 0; i < ROUNDS; i++) {
      readings.socks.push(await run("socks"));
      readings.captured.push(await run("captured"));
    }
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
    const of = (mode: "captured" | "socks", key: keyof Reading) => median(readings[mode].map((r) => r[key]));
    const rows = ([
      ["open + first echo, p50 (µs, lower is better)", "firstEchoP50Us", 0],
      ["connections per second (8 at once)", "opensPerSecond", 0],
      ["one connection, 128 MiB (MiB/s)", "mibPerSecond", 0],
    ] as const).map(([what, key]) => {
      const c = of("captured", key);
      const s = of("socks", key);
      return [what, c.toFixed(0), s.toFixed(0), (c / s).toFixed(2)];
    });
    return [
      header,
      `Client on host A → ztunnel A → HBONE → ztunnel B → sink/echo on host B (network namespaces, veth). Median of ${ROUNDS}`,
      "alternating rounds; 2 shared cores, so the figures are indicative and the ratio is what to read.",
      "",
      ...markdownTable(["measure", "captured", "SOCKS5", "captured / SOCKS5"], rows),
      "",
    ].join("\n");
  } finally {
    await mesh.stop();
  }
}

if (import.meta.main) console.log(await bench());
