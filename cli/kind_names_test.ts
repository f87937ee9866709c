import { expect, test } from "bun:test";
import { UsageError } from "./errors.ts";
import { resolveKind } from "./kind_names.ts";

test("kubectl's spellings of a kind: singular, plural, short, qualified", () => {
  const table: [string, string][] = [
    ["pod", "Pod"], ["Pods", "Pod"], ["po", "Pod"], ["svc", "Service"], ["services", "Service"],
    ["ap", "AuthorizationPolicy.security.istio.io"], ["authorizationpolicies", "AuthorizationPolicy.security.istio.io"],
    ["AuthorizationPolicy.security.istio.io", "AuthorizationPolicy.security.istio.io"],
    ["serviceentries", "ServiceEntry.networking.istio.io"], ["ns", "Namespace"], ["httproutes", "HTTPRoute.gateway.networking.k8s.io"],
    ["gateway", "Gateway.gateway.networking.k8s.io"], ["gateways", "Gateway.gateway.networking.k8s.io"],
    ["gw", "Gateway.networking.istio.io"], ["gateway.networking.istio.io", "Gateway.networking.istio.io"],
  ];
  for (const [name, qualified] of table) expect([name, resolveKind(name).qualified]).toEqual([name, qualified]);
});

test("an unknown kind is a usage error listing the known ones", () => {
  expect(() => resolveKind("widgets")).toThrow(UsageError);
  expect(() => resolveKind("widgets")).toThrow(/authorizationpolicy/);
});
