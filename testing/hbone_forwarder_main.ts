// An HBONE forwarder as its own (Bun) process, for suites running on Deno:
// there node:http2's client stream stalls on writes made after it has read
// (docs/waypoint.md), which breaks any request/response protocol carried over
// a test-side tunnel. The services under test still run on Deno.
// Usage: bun testing/hbone_forwarder_main.ts <options as JSON>; prints "forwarding <port>".
import { CertificateAuthority, spiffeId } from "../identity/mod.ts";
import { startHboneForwarder } from "./hbone_forwarder.ts";

const o = JSON.parse(process.argv[2]!) as {
  address: string;
  caDir: string;
  source: string;
  waypoint: { address: string; port: number };
  waypointIdentity: string;
  target: { address: string; port: number };
};
const ca = await CertificateAuthority.loadOrCreate({ dir: o.caDir, trustDomain: "cluster.local" });
const [sns, ssa] = o.source.split("/") as [string, string];
const [wns, wsa] = o.waypointIdentity.split("/") as [string, string];
const f = await startHboneForwarder({
  address: o.address,
  source: await ca.issue(spiffeId("cluster.local", sns, ssa), 3600),
  waypoint: o.waypoint,
  waypointIdentity: spiffeId("cluster.local", wns, wsa),
  target: o.target,
});
console.log(`forwarding ${f.port}`);
process.on("SIGTERM", () => void f.close().then(() => process.exit(0)));
