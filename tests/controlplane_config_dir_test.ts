// The controlplane applies a config directory at start: valid files land in the
// store, an invalid one is reported with its file, object and field and skipped,
// and the controlplane keeps running. Real process, real TLS endpoint.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, startTestControlplane, test } from "../testing/mod.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ambit-config-dir-"));
fs.writeFileSync(path.join(dir, "10-namespace.yaml"), "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {istio.io/dataplane-mode: ambient}}\n");
fs.writeFileSync(path.join(dir, "20-policy.yaml"), "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: allow-nothing, namespace: shop}\nspec: {}\n");
fs.writeFileSync(path.join(dir, "30-broken.yaml"), "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: broken, namespace: shop}\nspec: {action: MAYBE}\n");
fs.writeFileSync(path.join(dir, "notes.txt"), "not config\n");

const cp = await startTestControlplane(["--config-dir", dir]);
afterAll(() => cp.kill());

test("a config directory is applied at start; a bad file is named and skipped", async () => {
  const token = fs.readFileSync(path.join(cp.stateDir, "admin-token"), "utf8").trim();
  const items = (await cp.admin.json<{ items: { kind: string; metadata: { name: string } }[] }>("GET", "/api/v1/objects", undefined, { authorization: `Bearer ${token}` })).items;
  assert.deepEqual(items.map((o) => `${o.kind}/${o.metadata.name}`).sort(), ["AuthorizationPolicy/allow-nothing", "Namespace/shop"]);
  await cp.proc.waitForLine(/config file rejected.*30-broken\.yaml.*AuthorizationPolicy shop\/broken.*spec\.action/);
  const audit = (await cp.admin.json<{ entries: { who: string }[] }>("GET", "/api/v1/audit", undefined, { authorization: `Bearer ${token}` })).entries;
  assert.ok(audit.every((e) => e.who.startsWith("config-dir:")), JSON.stringify(audit));
  assert.equal(cp.proc.child.exitCode, null);
});
