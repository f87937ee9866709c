import { expect, test } from "bun:test";
import type { L7Authorization } from "../../xds/l7_policy_resources.ts";
import { authorization } from "./authorization.ts";
import { runFilter } from "./_security_fixture.ts";

const policy = (over: Partial<L7Authorization>): L7Authorization => ({ name: "p", namespace: "default", action: "ALLOW", dryRun: false, rules: [], ...over });
const filter = authorization({});

test("denied: 403 RBAC: access denied, the chain stops", async () => {
  const r = await runFilter(filter, { authorizations: [policy({ rules: [{ to: [{ operation: { methods: ["POST"] } }] }] })] });
  expect([r.passed, r.status, r.body.trim()]).toEqual([false, 403, "RBAC: access denied"]);
  expect(r.ctx.responseFlags).toContain("RBAC");
});

test("allowed: the chain goes on; no policies: nothing is checked", async () => {
  expect((await runFilter(filter, { authorizations: [policy({ rules: [{ to: [{ operation: { methods: ["GET"] } }] }] })] })).passed).toBe(true);
  expect((await runFilter(filter, {})).passed).toBe(true);
});

test("the source identity is the tunnel's peer: principals and namespaces match it", async () => {
  const rules = [{ from: [{ source: { principals: ["cluster.local/ns/default/sa/curl"] } }] }];
  expect((await runFilter(filter, { authorizations: [policy({ rules })] })).passed).toBe(true);
  const other = [{ from: [{ source: { namespaces: ["other"] } }] }];
  expect((await runFilter(filter, { authorizations: [policy({ rules: other })] })).passed).toBe(false);
});

test("dry-run DENY: allowed, and counted as would-deny", async () => {
  const seen: Record<string, string>[] = [];
  const dry = authorization({ dryRuns: { inc: (l: Record<string, string>) => seen.push(l) } as never });
  const r = await runFilter(dry, { authorizations: [policy({ action: "DENY", dryRun: true, rules: [{}] })] });
  expect(r.passed).toBe(true);
  expect(seen).toEqual([{ would: "deny", policy: "default/p", destination_service: "default/httpbin.default.svc.cluster.local" }]);
});
