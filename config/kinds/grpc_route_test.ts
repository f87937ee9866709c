import { describe, expect, test } from "bun:test";
import { GRPCRouteSpecSchema } from "./grpc_route.ts";

const parent = { parentRefs: [{ group: "", kind: "Service", name: "greeter" }] };
const rule = (r: object) => ({ ...parent, rules: [r] });
const method = (m: object) => rule({ matches: [{ method: m }], backendRefs: [{ name: "greeter-v2", port: 50051 }] });

describe("GRPCRoute spec", () => {
  const cases: [string, object, string | undefined][] = [
    ["service and method", method({ service: "pkg.Greeter", method: "SayHello" }), undefined],
    ["service only", method({ service: "helloworld.Greeter" }), undefined],
    ["method only", method({ method: "SayHello" }), undefined],
    ["regular expression", method({ type: "RegularExpression", service: "pkg\\..*", method: "Say.*" }), undefined],
    ["neither service nor method", method({ type: "Exact" }), "rules.0.matches.0.method"],
    ["a service that is not a gRPC name", method({ service: "pkg/Greeter" }), "rules.0.matches.0.method.service"],
    ["a method that is not a gRPC name", method({ service: "pkg.Greeter", method: "Say.Hello" }), "rules.0.matches.0.method.method"],
    ["an unknown match type", method({ type: "Prefix", service: "pkg.Greeter" }), "rules.0.matches.0.method.type"],
    ["header matches", rule({ matches: [{ headers: [{ name: "x-canary", value: "true" }] }], backendRefs: [{ name: "greeter-v2", port: 50051 }] }), undefined],
    ["a Service backend without a port", rule({ backendRefs: [{ name: "greeter-v2" }] }), "rules.0.backendRefs.0.port"],
    ["weights", rule({ backendRefs: [{ name: "a", port: 1, weight: 90 }, { name: "b", port: 1, weight: 10 }] }), undefined],
    ["HTTPRoute-only fields are unknown here", rule({ timeouts: { request: "1s" } }), "rules.0"],
    ["duplicate rule names", { ...parent, rules: [{ name: "a" }, { name: "a" }] }, "rules.1"],
  ];
  for (const [name, spec, errorPath] of cases) {
    test(name, () => {
      const r = GRPCRouteSpecSchema.safeParse(spec);
      if (errorPath === undefined) expect(r.error?.issues).toBeUndefined();
      else expect(r.error?.issues.map((i) => i.path.join("."))).toEqual([errorPath]);
    });
  }
});
