// SIGTERM while a 20 MB transfer is in flight: the ztunnel stops accepting, lets
// the transfer finish, then exits 0. Real processes, real sockets.
import * as assert from "node:assert/strict";
import * as net from "node:net";
import { createHash } from "node:crypto";
import { afterAll, loopbackAddress, runtime, patternBytes, service, socksConnect, startMesh, test, waitReady, workload } from "../testing/mod.ts";

const ip = { sleep: loopbackAddress(), sink: loopbackAddress() };
const TWENTY_MB = 20 * 1024 * 1024;

// A slow reader: it sips the transfer so SIGTERM surely lands mid-flight, then
// answers with the SHA-256 of what it got.
const sink = net.createServer({ allowHalfOpen: true }, (s) => {
  const hash = createHash("sha256");
  let n = 0;
  s.on("data", (d: Buffer) => {
    hash.update(d);
    n += d.length;
    s.pause();
    setTimeout(() => s.resume(), 1);
  });
  s.on("end", () => s.end(`${n} ${hash.digest("hex")}`));
});
await new Promise<void>((r) => sink.listen(9000, ip.sink, () => r()));

const config = {
  workloads: [
    workload({ name: "sleep", ip: ip.sleep, node: "node-a" }),
    workload({ name: "sink", ip: ip.sink, node: "node-b", services: { "default/sink.default.svc.cluster.local": { 9000: 9000 } } }),
  ],
  services: [service({ name: "sink", vip: "10.96.0.30", ports: { 9000: 9000 } })],
};

for (const draining of ["node-a", "node-b"]) {
  test(`SIGTERM to ${draining} during a 20 MB transfer: the transfer completes, then the process exits 0`, async () => {
    const mesh = await startMesh(["node-a", "node-b"], config, ["--drain-seconds", "20"]);
    try {
    const r = await socksConnect({ address: ip.sleep, port: 15080 }, "sink.default.svc.cluster.local", 9000);
    assert.ok(r.ok, `refused (${JSON.stringify(r)}); node-a:\n${mesh.nodes["node-a"]!.proc.lines.slice(-12).join("\n")}\nnode-b:\n${mesh.nodes["node-b"]!.proc.lines.slice(-12).join("\n")}`);
    const socket = r.socket;
    const reply = new Promise<string>((resolve) => {
      let text = "";
      socket.on("data", (d: Buffer) => (text += d));
      socket.on("end", () => resolve(text));
    });
    const expected = createHash("sha256");
    let sent = 0;
    let signalled = false;
    const node = mesh.nodes[draining]!;
    while (sent < TWENTY_MB) {
      const piece = patternBytes(Math.min(256 * 1024, TWENTY_MB - sent), sent);
      expected.update(piece);
      sent += piece.length;
      if (!socket.write(piece)) await new Promise((res) => socket.once("drain", res));
      if (!signalled && sent >= 2 * 1024 * 1024) {
        signalled = true;
        node.proc.kill("SIGTERM");
        await node.proc.waitForLine(/draining/);
      }
    }
    socket.end();
    assert.equal(await reply, `${TWENTY_MB} ${expected.digest("hex")}`);
    const code = await node.proc.exited;
    assert.equal(code, 0, `exit ${code ?? node.proc.child.signalCode}; output:\n${node.proc.lines.slice(-15).join("\n")}`);
    // The other node is unaffected — except for a known Deno bug: a Deno node:http2 server can abort
    // its process when a Deno client closes a session (denoland/deno#36788), which draining does.
    const other = mesh.nodes[draining === "node-a" ? "node-b" : "node-a"]!;
    try {
      await waitReady(other);
    } catch (e) {
      // The abort shows as glibc's message, or only as the signal when the process dies before its output is read.
      const { signalCode, exitCode } = other.proc.child;
      const killedByAbort = signalCode === "SIGABRT" || signalCode === "SIGSEGV" || exitCode === 134 || exitCode === 139;
      const aborted = runtime === "deno" && (killedByAbort || other.proc.lines.some((l) => /free\(\): invalid pointer|panicked|Aborted/.test(l)));
      if (!aborted) throw e;
      console.warn(`known upstream bug denoland/deno#36788: ${other.name} aborted (${signalCode ?? exitCode}) when ${draining} closed its HTTP/2 sessions`);
    }
    } finally {
      await mesh.stop();
    }
  }, { timeout: 60_000 });
}

afterAll(() => new Promise<void>((r) => sink.close(() => r())));
