import { expect, test } from "bun:test";
import { BackendTrafficPolicySchema } from "./backend_traffic_policy.ts";

const btp = (rateLimit: unknown) => ({
  apiVersion: "gateway.envoyproxy.io/v1alpha1", kind: "BackendTrafficPolicy", metadata: { name: "rl", namespace: "default" },
  spec: { targetRefs: [{ group: "", kind: "Service", name: "httpbin" }], rateLimit },
});
const messages = (o: unknown) => {
  const r = BackendTrafficPolicySchema.safeParse(o);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
};

test("BackendTrafficPolicy: local limits with one selector are accepted", () => {
  expect(messages(btp({ type: "Local", local: { rules: [{ limit: { requests: 5, unit: "Second" } }] } }))).toEqual([]);
  expect(messages(btp({ type: "Local", local: { rules: [{ clientSelectors: [{ sourceIdentity: { type: "Distinct" } }], limit: { requests: 5, unit: "Hour" } }] } }))).toEqual([]);
});

test("BackendTrafficPolicy: Global is refused with the reason; bad selectors and limits name their field", () => {
  expect(messages(btp({ type: "Global", local: { rules: [{ limit: { requests: 5, unit: "Second" } }] } }))[0]).toMatch(/^spec\.rateLimit\.type: only Local rate limits are enforced/);
  expect(messages(btp({ type: "Local", local: { rules: [{ clientSelectors: [{}], limit: { requests: 5, unit: "Second" } }] } }))[0]).toMatch(/clientSelectors\.0: set exactly one/);
  expect(messages(btp({ type: "Local", local: { rules: [{ limit: { requests: 0, unit: "Week" } }] } })).length).toBe(2);
});
