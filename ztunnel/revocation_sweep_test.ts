import { describe, expect, test } from "bun:test";
import { Logger, MetricsRegistry } from "../telemetry/mod.ts";
import { ConnectionTracker, type ConnectionInfo } from "./connections.ts";
import { RevocationSweep } from "./revocation_sweep.ts";
import { revokedSerialSet } from "./revoked_serials.ts";

type Open = Omit<ConnectionInfo, "id" | "startedAt">;
const at = { address: "127.0.0.1", port: 1 };
const hbone = (direction: "inbound" | "outbound", peerSerialNumber?: string): Open => ({ direction, source: at, destination: at, protocol: "hbone", peerSerialNumber });

function sweepOver(open: Open[], sessions: { serialNumber?: string }[] = [], pooled: { serialNumber?: string }[] = []) {
  const tracker = new ConnectionTracker();
  const closed: number[] = [];
  open.forEach((info, i) => {
    const t = tracker.add(info, () => {
      closed.push(i);
      t.release();
    });
  });
  const lines: string[] = [];
  const registry = new MetricsRegistry();
  const identity = { trustDomain: "cluster.local", namespace: "ns", serviceAccount: "sa" } as never;
  const sweep = new RevocationSweep({
    tracker,
    registry,
    log: new Logger({ format: "json", write: (l) => lines.push(l) }),
    hbone: { closeSessionsWhere: (select) => sessions.filter((s) => select({ identity, ...s })).length },
    pool: { closeWhere: (select) => pooled.filter((s) => select({ identity, ...s })).length },
  });
  return { sweep, closed, lines, registry, tracker };
}

describe("RevocationSweep", () => {
  test("closes HBONE connections both ways whose peer serial is revoked, in any spelling", () => {
    const s = sweepOver([hbone("inbound", "00:1A:2B"), hbone("outbound", "1a2b"), hbone("inbound", "ff"), hbone("outbound")], [{ serialNumber: "1A2B" }, { serialNumber: "ff" }], [{ serialNumber: "01a2b" }]);
    const result = s.sweep.apply(revokedSerialSet(["1a2b"]));
    expect(result).toEqual({ inbound: 1, outbound: 1, sessions: 2 });
    expect(s.closed).toEqual([0, 1]);
    expect(s.tracker.size).toBe(2);
    const text = s.registry.render();
    expect(text).toContain('ambit_revoked_connections_closed_total{direction="inbound"} 1');
    expect(text).toContain('ambit_revoked_connections_closed_total{direction="outbound"} 1');
    const line = JSON.parse(s.lines.find((l) => l.includes("revoked certificate"))!);
    expect(line).toMatchObject({ reason: "revoked-certificate", inbound: 1, outbound: 1, sessions: 2, serials: "1a2b" });
  });

  const untouched: { name: string; open: Open; revoked: string[] }[] = [
    { name: "nothing revoked", open: hbone("inbound", "1a2b"), revoked: [] },
    { name: "another serial revoked", open: hbone("inbound", "1a2b"), revoked: ["1a2c"] },
    { name: "a peer whose stack exposed no serial", open: hbone("outbound"), revoked: ["1a2b"] },
    { name: "a same-node hand-off (no certificate crossed)", open: { ...hbone("inbound", "1a2b"), protocol: "local" }, revoked: ["1a2b"] },
  ];
  for (const c of untouched) {
    test(`leaves open: ${c.name}`, () => {
      const s = sweepOver([c.open]);
      expect(s.sweep.apply(revokedSerialSet(c.revoked))).toEqual({ inbound: 0, outbound: 0, sessions: 0 });
      expect(s.closed).toEqual([]);
      expect(s.lines.filter((l) => l.includes("revoked certificate"))).toEqual([]);
    });
  }
});
