import { describe, expect, test } from "bun:test";
import { AuthorizationPolicySpecSchema, ConditionSchema, isKnownConditionKey } from "./authorization_policy.ts";

const sourceRule = (source: object) => ({ rules: [{ from: [{ source }] }] });
const operationRule = (operation: object) => ({ rules: [{ to: [{ operation }] }] });

describe("AuthorizationPolicy spec", () => {
  const cases: [string, object, string | undefined][] = [
    ["allow-nothing", {}, undefined],
    ["allow-all", { rules: [{}] }, undefined],
    ["principal", sourceRule({ principals: ["cluster.local/ns/default/sa/sleep"] }), undefined],
    ["principal prefix", sourceRule({ principals: ["cluster.local/ns/default/*"] }), undefined],
    ["principal suffix", sourceRule({ principals: ["*/sa/sleep"] }), undefined],
    ["any principal", sourceRule({ principals: ["*"] }), undefined],
    ["spiffe prefix", sourceRule({ principals: ["spiffe://cluster.local/ns/a/sa/b"] }), "rules.0.from.0.source.principals.0"],
    ["spiffe in notPrincipals", sourceRule({ notPrincipals: ["spiffe://x"] }), "rules.0.from.0.source.notPrincipals.0"],
    ["two wildcards", sourceRule({ namespaces: ["*foo*"] }), "rules.0.from.0.source.namespaces.0"],
    ["IPv6 CIDR", sourceRule({ ipBlocks: ["fd00::/8"] }), undefined],
    ["CIDR too long", sourceRule({ notIpBlocks: ["10.0.0.0/33"] }), "rules.0.from.0.source.notIpBlocks.0"],
    ["remote IP", sourceRule({ remoteIpBlocks: ["not-an-ip"] }), "rules.0.from.0.source.remoteIpBlocks.0"],
    ["empty source", sourceRule({}), "rules.0.from.0.source"],
    ["port", operationRule({ ports: ["15008"] }), undefined],
    ["port zero", operationRule({ notPorts: ["0"] }), "rules.0.to.0.operation.notPorts.0"],
    ["port name", operationRule({ ports: ["http"] }), "rules.0.to.0.operation.ports.0"],
    ["DENY", { action: "DENY", rules: [{}] }, undefined],
    ["AUDIT with provider", { action: "AUDIT", provider: { name: "p" } }, "provider"],
    ["CUSTOM", { action: "CUSTOM", provider: { name: "ext-authz" }, rules: [{}] }, undefined],
    ["CUSTOM without rules", { action: "CUSTOM", provider: { name: "ext-authz" } }, "rules"],
    ["targetRef to a Deployment", { targetRefs: [{ group: "apps", kind: "Deployment", name: "x" }] }, "targetRefs.0.kind"],
    ["targetRef to a waypoint", { targetRefs: [{ group: "gateway.networking.k8s.io", kind: "Gateway", name: "waypoint" }] }, undefined],
  ];
  for (const [name, spec, errorPath] of cases) {
    test(name, () => {
      const r = AuthorizationPolicySpecSchema.safeParse(spec);
      if (errorPath === undefined) expect(r.error?.issues).toBeUndefined();
      else expect(r.error?.issues.map((i) => i.path.join("."))).toEqual([errorPath]);
    });
  }
});

describe("when conditions", () => {
  const keys: [string, boolean][] = [
    ["source.ip", true], ["source.namespace", true], ["source.principal", true], ["source.serviceAccount", true],
    ["destination.ip", true], ["destination.port", true], ["remote.ip", true], ["connection.sni", true],
    ["request.auth.principal", true], ["request.auth.audiences", true], ["request.auth.presenter", true],
    ["request.auth.claims[iss]", true], ["request.auth.claims[groups][admin]", true], ["request.headers[x-token]", true],
    ["experimental.envoy.filters.network.mysql_proxy[db.table]", true],
    ["request.headers", false], ["request.headers[]", false], ["request.method", false], ["source.ips", false], ["", false],
  ];
  for (const [key, known] of keys) test(`key ${JSON.stringify(key)} is ${known ? "known" : "unknown"}`, () => expect(isKnownConditionKey(key)).toBe(known));

  test("values are checked against the key", () => {
    expect(ConditionSchema.safeParse({ key: "source.ip", values: ["10.0.0.0/8", "10.1.2.3"] }).success).toBe(true);
    expect(ConditionSchema.safeParse({ key: "source.ip", notValues: ["10.0.0.0/99"] }).error?.issues[0]?.path).toEqual(["notValues", 0]);
    expect(ConditionSchema.safeParse({ key: "destination.port", values: ["65536"] }).error?.issues[0]?.path).toEqual(["values", 0]);
    expect(ConditionSchema.safeParse({ key: "source.namespace" }).error?.issues[0]?.message).toBe("at least one of values or notValues must be set");
  });
});
