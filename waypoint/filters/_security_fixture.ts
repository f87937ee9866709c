// A request context for the security filters' unit tests: a state holding one
// Service and its L7 policies, a response that records what was answered, and
// a `next` that records whether the chain went on. Nothing runs on the network.
import type { ServiceL7Policy } from "../../xds/l7_policy_resources.ts";
import type { ExtAuthzHttpProvider } from "../../xds/l7_policy_resources.ts";
import { testService } from "../../testing/resources.ts";
import type { Filter, RequestContext } from "../request_context.ts";
import { WaypointState } from "../state.ts";

export const SERVICE_KEY = "default/httpbin.default.svc.cluster.local";

/** What a filter did with one request. */
export interface FilterRun {
  readonly ctx: RequestContext;
  readonly passed: boolean;
  readonly status?: number;
  readonly headers: Record<string, string | string[]>;
  readonly body: string;
}

/** Runs one filter over a request to httpbin carrying `policy`. */
export async function runFilter(filter: Filter, policy: Partial<Omit<ServiceL7Policy, "service">>, request: { method?: string; path?: string; headers?: Record<string, string> } = {}, providers: ExtAuthzHttpProvider[] = []): Promise<FilterRun> {
  const state = new WaypointState({
    services: [testService("httpbin", "default", { vips: [{ network: "", address: "10.96.0.10" }], ports: { 8000: 8080 } })],
    workloads: [],
    routes: [],
    l7Policies: [{ service: SERVICE_KEY, requestAuthentications: [], authorizations: [], rateLimits: [], ...policy }],
    extAuthzProviders: providers,
  });
  let status: number | undefined;
  let headers: Record<string, string | string[]> = {};
  let body = "";
  const res = {
    headersSent: false,
    writableFinished: false,
    writeHead(s: number, h: Record<string, string | string[]> = {}) {
      status = s;
      headers = h;
    },
    write: () => true,
    end(chunk?: string | Buffer) {
      body += chunk ? String(chunk) : "";
    },
    addTrailers() {},
    once() {},
  };
  const ctx = {
    id: "test",
    startedAt: 0,
    protocol: "HTTP/1.1",
    res,
    tunnel: { peerIdentity: { trustDomain: "cluster.local", namespace: "default", serviceAccount: "curl" }, destination: { address: "10.96.0.10", port: 8000 } },
    source: "10.0.0.5:40000",
    state,
    target: state.findService("10.96.0.10", 8000)!,
    grpc: false,
    bodiless: true,
    upstream: { method: request.method ?? "GET", path: request.path ?? "/", authority: "httpbin.default.svc.cluster.local:8000", headers: { ...request.headers } },
    filters: [],
    responseHeaderModifiers: [],
    bodyTaps: [],
    responseFlags: [],
    requestBytes: 0,
    responseBytes: 0,
    attempts: 0,
  } as unknown as RequestContext;
  let passed = false;
  await filter(ctx, () => {
    passed = true;
    return Promise.resolve();
  });
  return { ctx, passed, status, headers, body };
}
