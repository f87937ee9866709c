import { describe, expect, test } from "bun:test";
import { findKind, groupKind, KINDS, kindsNamed } from "./mod.ts";

describe("KINDS", () => {
  test("keys are GroupKinds, each apiVersion in the kind's group", () => {
    for (const [key, info] of Object.entries(KINDS)) {
      expect(key).toBe(groupKind(info.group, info.kind));
      for (const v of info.apiVersions) expect(v).toBe(info.group ? `${info.group}/${v.slice(info.group.length + 1)}` : v);
    }
  });

  test("every listed apiVersion finds its kind, and the schema accepts it", () => {
    for (const info of Object.values(KINDS)) {
      for (const apiVersion of info.apiVersions) {
        expect(findKind(apiVersion, info.kind)).toBe(info);
        const r = info.schema.safeParse({ apiVersion, kind: info.kind, metadata: { name: "x", ...(info.namespaced && { namespace: "y" }) } });
        // Enforced kinds may require a spec; the envelope itself must never be the problem.
        expect(r.error?.issues.filter((i) => ["apiVersion", "kind", "metadata"].includes(String(i.path[0]))) ?? []).toEqual([]);
      }
    }
  });

  test("the two Gateways are told apart by group", () => {
    expect(kindsNamed("Gateway").map((k) => [k.group, k.enforced])).toEqual([["gateway.networking.k8s.io", true], ["networking.istio.io", false]]);
    expect(findKind("networking.istio.io/v1", "Gateway")?.enforced).toBe(false);
    expect(findKind("gateway.networking.k8s.io/v1", "Gateway")?.enforced).toBe(true);
    expect(findKind("apps/v1", "Deployment")).toBeUndefined();
    expect(findKind("security.istio.io/v2", "AuthorizationPolicy")).toBeUndefined();
  });
});
