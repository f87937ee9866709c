// Request bodies through a real waypoint (Bun or Deno, with the ztunnel and
// echo backend on the same runtime): every byte reaches the endpoint in order,
// whatever the size, framing or `Expect: 100-continue`; an endpoint that drops
// the connection mid-body gets the client a 503 and the waypoint keeps serving.
// On Deno about one 60-200 KB POST in five once reached the echo backend out
// of order (its h2c/HTTP/1.1 sniff, testing/http_echo.ts), and a dropped
// connection mid-body made node:http fail the upstream request twice, the
// second 'error' ending the waypoint (waypoint/upstream_exchange.ts).
import * as assert from "node:assert/strict";
import * as crypto from "node:crypto";
import * as http from "node:http";
import { afterAll, test } from "../testing/harness.ts";
import { runCommand } from "../testing/processes.ts";
import { startWaypointMesh } from "../testing/waypoint_mesh.ts";

const mesh = await startWaypointMesh([{ name: "bodies", vip: "10.96.5.1", backends: ["bodies-v1"] }]);
afterAll(() => mesh.stop());
const HOST = "bodies.default.svc.cluster.local";
const sha256 = (b: Buffer | string) => crypto.createHash("sha256").update(b).digest("hex");

/** One POST on a connection of its own; `chunked` leaves Content-Length out. */
async function post(path: string, body: Buffer, o: { chunked?: boolean; expect?: boolean } = {}) {
  const f = await mesh.forwarder("bodies");
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = http.request({
      host: f.address,
      port: f.port,
      method: "POST",
      path,
      agent: false,
      headers: { host: HOST, ...(o.chunked ? {} : { "content-length": String(body.length) }), ...(o.expect ? { expect: "100-continue" } : {}) },
    }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on("error", reject);
    });
    req.on("error", reject);
    const timer = setTimeout(() => req.destroy(new Error(`${path}: no response within 10 s`)), 10_000);
    req.once("close", () => clearTimeout(timer));
    const send = () => {
      for (let o2 = 0; o2 < body.length; o2 += 16_384) req.write(body.subarray(o2, o2 + 16_384));
      req.end();
    };
    if (o.expect) req.once("continue", send);
    else send();
  });
}

test("request bodies of random sizes and framings reach the endpoint byte for byte", async () => {
  const failures: string[] = [];
  for (let i = 0; i < 48; i++) {
    const body = crypto.randomBytes(i % 8 === 0 ? crypto.randomInt(1, 2_000) : 60_000 + crypto.randomInt(240_000));
    const framing = { chunked: i % 3 === 1, expect: i % 2 === 1 };
    const r = await post("/bodies", body, framing);
    const echo = r.status === 200 ? JSON.parse(r.body) as { bodyBytes: number; bodySha256: string } : undefined;
    if (echo?.bodyBytes !== body.length || echo.bodySha256 !== sha256(body)) {
      failures.push(`${body.length} B ${JSON.stringify(framing)}: ${r.status} ${r.body.slice(0, 120)}`);
    }
  }
  assert.deepEqual(failures, []);
}, { timeout: 90_000 });

test("curl's POSTs of 60-200 KB, with and without Expect: 100-continue, arrive whole", async () => {
  const f = await mesh.forwarder("bodies");
  const url = `http://${f.address}:${f.port}/curl`;
  const failures: string[] = [];
  for (let i = 0; i < 24; i++) {
    const body = crypto.randomBytes(45_000 + crypto.randomInt(105_000)).toString("base64"); // 60-200 KB of text
    const expect = i % 2 === 0 ? ["-H", "Expect: 100-continue"] : ["-H", "Expect:"];
    const r = await runCommand("curl", ["-sS", "-H", `host: ${HOST}`, ...expect, "--data-binary", "@-", url], { input: body });
    if (!r.stdout.includes(`"bodySha256":"${sha256(body)}"`)) failures.push(`${body.length} B ${expect[1]}: exit ${r.code} ${r.stdout.slice(0, 120)} ${r.stderr.trim()}`);
  }
  assert.deepEqual(failures, []);
}, { timeout: 90_000 });

test("an endpoint that drops the connection mid-body gets a 503, and the waypoint keeps serving", async () => {
  const body = crypto.randomBytes(200_000);
  for (let i = 0; i < 20; i++) {
    const r = await post("/reset", body);
    assert.equal(r.status, 503, `attempt ${i}: ${r.body}`);
    const next = await mesh.request("bodies", { path: "/after-reset" });
    assert.equal(next.status, 200, `after attempt ${i}: ${next.body}`);
  }
  assert.equal(mesh.waypoint.proc.child.exitCode, null, mesh.waypoint.proc.lines.slice(-20).join("\n"));
}, { timeout: 60_000 });
