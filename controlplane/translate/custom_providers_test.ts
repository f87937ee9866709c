import { expect, test } from "bun:test";
import type { KubeObject } from "../../config/objects.ts";
import { customProviderWarnings } from "./custom_providers.ts";

const policy = (name: string, s: Record<string, unknown>): KubeObject =>
  ({ apiVersion: "security.istio.io/v1", kind: "AuthorizationPolicy", metadata: { name, namespace: "foo" }, spec: s }) as KubeObject;
const targetRefs = [{ kind: "Service", group: "", name: "httpbin" }];
const providers = [{ name: "sample-ext-authz-http" }];

const rows: [string, KubeObject, boolean][] = [
  ["a known HTTP provider", policy("a", { targetRefs, action: "CUSTOM", provider: { name: "sample-ext-authz-http" } }), false],
  ["a gRPC (or unknown) provider", policy("b", { targetRefs, action: "CUSTOM", provider: { name: "sample-ext-authz-grpc" } }), true],
  ["no provider name", policy("c", { targetRefs, action: "CUSTOM" }), true],
  ["an ALLOW policy", policy("d", { targetRefs, action: "ALLOW" }), false],
  ["a CUSTOM policy without targetRefs (not a waypoint's: not checked here)", policy("e", { selector: { matchLabels: { app: "x" } }, action: "CUSTOM", provider: { name: "nope" } }), false],
];
for (const [name, o, warned] of rows) {
  test(`CUSTOM provider check: ${name}`, () => {
    const w = customProviderWarnings([o], providers);
    expect(w.length).toBe(warned ? 1 : 0);
    if (warned) expect(w[0]!.object).toBe(`AuthorizationPolicy foo/${o.metadata.name}`);
  });
}

test("the message names the provider and says what happens", () => {
  const [w] = customProviderWarnings([policy("b", { targetRefs, action: "CUSTOM", provider: { name: "sample-ext-authz-grpc" } })], providers);
  expect(w!.message).toContain('"sample-ext-authz-grpc"');
  expect(w!.message).toContain("every request this policy matches is denied");
});
