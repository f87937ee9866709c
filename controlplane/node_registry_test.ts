import { expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { NodeRegistry } from "./node_registry.ts";

const dir = () => fs.mkdtempSync(path.join(os.tmpdir(), "ambit-nodes-"));

test("a token proves its node; the clear token is never stored", async () => {
  const d = dir();
  const nodes = new NodeRegistry(d);
  const token = await nodes.createToken("node-a", "admin");
  expect(nodes.verifyToken(token)).toBe("node-a");
  const secret = token.split(".")[2]!;
  expect(fs.readFileSync(path.join(d, "nodes.json"), "utf8")).not.toContain(secret);
  expect(new NodeRegistry(d).verifyToken(token)).toBe("node-a");
});

const bad: [string, (t: string) => string][] = [
  ["another node's name", (t) => t.replace("node-a", "node-b")],
  ["a changed secret", (t) => t.slice(0, -2) + (t.endsWith("AA") ? "BB" : "AA")],
  ["a wrong prefix", (t) => t.replace("ambitjoin", "other")],
  ["extra parts", (t) => t + ".x"],
  ["empty", () => ""],
];
for (const [name, mutate] of bad) {
  test(`refuses ${name}`, async () => {
    const nodes = new NodeRegistry(dir());
    await nodes.createToken("node-b", "admin");
    expect(nodes.verifyToken(mutate(await nodes.createToken("node-a", "admin")))).toBeUndefined();
  });
}

test("revoking refuses the token and marks the node inactive; a new token replaces the old", async () => {
  const nodes = new NodeRegistry(dir());
  const old = await nodes.createToken("node-a", "admin");
  const fresh = await nodes.createToken("node-a", "admin");
  expect(nodes.verifyToken(old)).toBeUndefined();
  expect(nodes.verifyToken(fresh)).toBe("node-a");
  expect(await nodes.revoke("node-a")).toBe(true);
  expect(nodes.verifyToken(fresh)).toBeUndefined();
  expect(nodes.isActive("node-a")).toBe(false);
  expect(nodes.list()[0]).toMatchObject({ name: "node-a", state: "revoked" });
  expect(await nodes.revoke("nobody")).toBe(false);
});
