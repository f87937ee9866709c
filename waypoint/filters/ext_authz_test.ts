// The CUSTOM filter's failure paths without a provider process: an address
// nothing listens on (port 9 on a loopback address), and a missing provider.
import { expect, test } from "bun:test";
import type { ExtAuthzHttpProvider, L7Authorization } from "../../xds/l7_policy_resources.ts";
import { extAuthz } from "./ext_authz.ts";
import { runFilter } from "./_security_fixture.ts";

const custom: L7Authorization = { name: "ext", namespace: "default", action: "CUSTOM", provider: "authz", dryRun: false, rules: [{ to: [{ operation: { paths: ["/checked*"] } }] }] };
const provider = (over: Partial<ExtAuthzHttpProvider> = {}): ExtAuthzHttpProvider => ({
  name: "authz", service: "127.0.0.1", port: 9, pathPrefix: "", timeoutMs: 500, failOpen: false, statusOnError: 403,
  includeRequestHeadersInCheck: [], includeAdditionalHeadersInCheck: {}, headersToUpstreamOnAllow: [], headersToDownstreamOnDeny: [], headersToDownstreamOnAllow: [], ...over,
});

test("requests the CUSTOM rules do not match are not checked", async () => {
  expect((await runFilter(extAuthz(), { authorizations: [custom] }, { path: "/other" }, [provider()])).passed).toBe(true);
});

test("unreachable provider: statusOnError when closed, through when failOpen", async () => {
  const closed = await runFilter(extAuthz(), { authorizations: [custom] }, { path: "/checked" }, [provider({ statusOnError: 503 })]);
  expect([closed.passed, closed.status]).toEqual([false, 503]);
  const open = await runFilter(extAuthz(), { authorizations: [custom] }, { path: "/checked" }, [provider({ failOpen: true })]);
  expect(open.passed).toBe(true);
});

test("a provider missing from the mesh config denies what the policy matches", async () => {
  const r = await runFilter(extAuthz(), { authorizations: [custom] }, { path: "/checked" }, []);
  expect([r.passed, r.status]).toEqual([false, 403]);
});
