import { expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { NodeRegistry, NodeRevokedError, normalizeSerial, parseToken } from "./node_registry.ts";

const dir = () => fs.mkdtempSync(path.join(os.tmpdir(), "ambit-nodes-"));
/** A clock the test moves by hand. */
const clock = (start = Date.parse("2026-01-01T00:00:00Z")) => {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
};

test("a token proves its node; the clear token is never stored; it survives a restart until used", async () => {
  const d = dir();
  const nodes = new NodeRegistry(d);
  const { token } = await nodes.createToken("node-a", "admin");
  expect(nodes.checkToken(token)).toBe("node-a");
  const secret = token.split(".").at(-1)!;
  expect(fs.readFileSync(path.join(d, "nodes.json"), "utf8")).not.toContain(secret);
  expect(new NodeRegistry(d).checkToken(token)).toBe("node-a");
});

const bad: [string, (t: string) => string][] = [
  ["another node's name", (t) => t.replace("node-a", "node-b")],
  ["a changed secret", (t) => t.slice(0, -2) + (t.endsWith("AA") ? "BB" : "AA")],
  ["a wrong prefix", (t) => t.replace("ambitjoin", "other")],
  ["extra parts", (t) => t + ".x"],
  ["empty", () => ""],
  ["no secret", (t) => t.slice(0, t.lastIndexOf("."))],
];
for (const [name, mutate] of bad) {
  test(`refuses ${name}`, async () => {
    const nodes = new NodeRegistry(dir());
    await nodes.createToken("node-b", "admin");
    expect(nodes.checkToken(mutate((await nodes.createToken("node-a", "admin")).token))).toBeUndefined();
  });
}

test("a token expires after its TTL (default 1 h, settable)", async () => {
  const c = clock();
  const nodes = new NodeRegistry(dir(), c.now);
  const hour = await nodes.createToken("node-a", "admin");
  const short = await nodes.createToken("node-b", "admin", 60);
  expect(hour.expiresAt).toBe("2026-01-01T01:00:00.000Z");
  c.advance(59_000);
  expect(nodes.checkToken(short.token)).toBe("node-b");
  c.advance(1_000);
  expect(nodes.checkToken(short.token)).toBeUndefined();
  expect(nodes.checkToken(hour.token)).toBe("node-a");
  c.advance(3600_000);
  expect(await nodes.redeemToken(hour.token)).toBeUndefined();
});

test("a token works once: the second redeem, or one after a restart, is refused", async () => {
  const d = dir();
  const nodes = new NodeRegistry(d);
  const { token } = await nodes.createToken("node-a", "admin");
  expect(await nodes.redeemToken(token)).toBe("node-a");
  expect(await nodes.redeemToken(token)).toBeUndefined();
  expect(nodes.checkToken(token)).toBeUndefined();
  expect(new NodeRegistry(d).checkToken(token)).toBeUndefined();
  expect(nodes.list()[0]).toMatchObject({ name: "node-a", state: "active" });
  expect(nodes.list()[0]!.joinedAt).toBeString();
});

test("revoking refuses the token; a new token replaces the old; re-issuing never un-revokes", async () => {
  const d = dir();
  const nodes = new NodeRegistry(d);
  const old = (await nodes.createToken("node-a", "admin")).token;
  const fresh = (await nodes.createToken("node-a", "admin")).token;
  expect(nodes.checkToken(old)).toBeUndefined();
  expect(nodes.checkToken(fresh)).toBe("node-a");
  expect(await nodes.revoke("node-a")).toBe(true);
  expect(nodes.checkToken(fresh)).toBeUndefined();
  expect(nodes.isActive("node-a")).toBe(false);
  await expect(nodes.createToken("node-a", "admin")).rejects.toThrow(NodeRevokedError);
  await expect(new NodeRegistry(d).createToken("node-a", "admin")).rejects.toThrow(/revoked/);
  expect(new NodeRegistry(d).isActive("node-a")).toBe(false);
  expect(nodes.list()[0]).toMatchObject({ name: "node-a", state: "revoked" });
  expect(await nodes.revoke("nobody")).toBe(false);
});

test("revoking refuses every unexpired certificate issued to the node, by serial, until it expires", async () => {
  const c = clock();
  const d = dir();
  const nodes = new NodeRegistry(d, c.now);
  await nodes.redeemToken((await nodes.createToken("node-a", "admin")).token);
  await nodes.createToken("node-b", "admin");
  const at = (s: number) => new Date(c.now() + s * 1000).toISOString();
  await nodes.recordCertificate("node-a", { serial: "0A1B", notAfter: at(3600), kind: "node" });
  await nodes.recordCertificate("node-a", { serial: "2c3d", notAfter: at(60), kind: "workload" });
  await nodes.recordCertificate("node-b", { serial: "4e5f", notAfter: at(3600), kind: "workload" });
  expect(nodes.isRevokedSerial("0a1b")).toBe(false);
  await nodes.revoke("node-a");
  expect(nodes.isRevokedSerial("0A:1B")).toBe(true);
  expect(nodes.isRevokedSerial("2C3D")).toBe(true);
  expect(nodes.isRevokedSerial("4e5f")).toBe(false);
  expect(new NodeRegistry(d, c.now).isRevokedSerial("0a1b")).toBe(true);
  c.advance(61_000);
  await nodes.recordCertificate("node-b", { serial: "6a", notAfter: at(3600), kind: "workload" });
  expect(nodes.revokedSerials().sort()).toEqual(["a1b"]);
});

test("node names may be FQDNs: the token splits at its last dot", async () => {
  const nodes = new NodeRegistry(dir());
  const { token } = await nodes.createToken("worker-1.eu-west.example.com", "admin");
  expect(token.startsWith("ambitjoin.worker-1.eu-west.example.com.")).toBe(true);
  expect(parseToken(token)?.node).toBe("worker-1.eu-west.example.com");
  expect(await nodes.redeemToken(token)).toBe("worker-1.eu-west.example.com");
  expect(parseToken("ambitjoin..secretsecretsecretsecret")).toBeUndefined();
  expect(normalizeSerial("00:0A:FF")).toBe("aff");
});

test("two joins racing with one token: exactly one redeems it (compare-and-swap)", async () => {
  const nodes = new NodeRegistry(dir());
  const { token } = await nodes.createToken("node-a", "admin");
  const results = await Promise.all([nodes.redeemToken(token), nodes.redeemToken(token), nodes.redeemToken(token)]);
  expect(results.filter((r) => r === "node-a")).toHaveLength(1);
});
