/**
 * The L7 resources a waypoint acts on: what the controlplane translates from
 * Gateway API HTTPRoute / GRPCRoute (mesh parentRefs, kind Service) and streams
 * to the waypoint that serves each Service. A ztunnel never receives these.
 *
 * One resource per Service a waypoint serves, named by its service key
 * ("namespace/hostname"). Precedence across every route attached to that
 * Service is decided once, by the controlplane: `routes` is already in Gateway
 * API precedence order, so the waypoint takes the first entry that matches.
 * Backends are resolved to service keys the waypoint also receives as
 * {@link Service} resources (and their endpoints as {@link Workload}s), or
 * marked unresolved so the waypoint answers 500 for their share.
 *
 * Streamed over the same delta xDS as type `ambit.dev/v1/ServiceRoutes`, with
 * per-proxy views: a waypoint receives only the Services it serves (and what
 * their routes reach), a ztunnel none of this.
 *
 * @module
 */
import type { ExtAuthzHttpProvider, ServiceL7Policy } from "./l7_policy_resources.ts";
import type { Service, Workload } from "./resources.ts";
import type { ServiceTelemetry } from "./telemetry_resources.ts";

/** Header and query-parameter matches: exact (header names case-insensitive) or a regular expression. */
export interface ValueMatch {
  readonly type: "Exact" | "RegularExpression";
  readonly name: string;
  readonly value: string;
}

/** A path match; `PathPrefix` matches whole `/`-separated segments. */
export interface PathMatch {
  readonly type: "Exact" | "PathPrefix" | "RegularExpression";
  readonly value: string;
}

/** One HTTPRoute match (all conditions AND). GRPCRoute matches are translated into this form too. */
export interface RouteMatch {
  readonly path?: PathMatch;
  readonly method?: string;
  readonly headers: readonly ValueMatch[];
  readonly queryParams: readonly ValueMatch[];
}

/** `set` / `add` / `remove` on request or response headers. */
export interface HeaderModifier {
  readonly set: readonly { readonly name: string; readonly value: string }[];
  readonly add: readonly { readonly name: string; readonly value: string }[];
  readonly remove: readonly string[];
}

/** Gateway API path modifiers for redirects and rewrites. */
export type PathModifier =
  | { readonly type: "ReplaceFullPath"; readonly replaceFullPath: string }
  | { readonly type: "ReplacePrefixMatch"; readonly replacePrefixMatch: string };

/** Filters as Gateway API defines them (rule-level or backend-level). */
export type RouteFilter =
  | { readonly type: "RequestHeaderModifier"; readonly requestHeaderModifier: HeaderModifier }
  | { readonly type: "ResponseHeaderModifier"; readonly responseHeaderModifier: HeaderModifier }
  | {
    readonly type: "RequestRedirect";
    readonly requestRedirect: {
      readonly scheme?: string;
      readonly hostname?: string;
      readonly port?: number;
      readonly path?: PathModifier;
      /** 301, 302 (default), 303, 307 or 308. */
      readonly statusCode: number;
    };
  }
  | { readonly type: "URLRewrite"; readonly urlRewrite: { readonly hostname?: string; readonly path?: PathModifier } }
  | {
    readonly type: "RequestMirror";
    readonly requestMirror: {
      readonly backend: ResolvedBackend;
      /** Share of requests mirrored, 0–100 (Gateway API `percent` / `fraction`). Default 100. */
      readonly percent: number;
    };
  };

/** A backend reference after resolution: a service key and port, or a reason it resolves to nothing. */
export type ResolvedBackend =
  | { readonly kind: "service"; readonly service: string; readonly port: number }
  | { readonly kind: "unresolved"; readonly reason: string };

/** One weighted backend of a rule. */
export interface RouteBackend {
  readonly backend: ResolvedBackend;
  /** Relative weight; 0 gets nothing. */
  readonly weight: number;
  readonly filters: readonly RouteFilter[];
}

/** GEP-1731 retries. */
export interface RetryPolicy {
  /** HTTP status codes that are retried. */
  readonly codes: readonly number[];
  /** Retries after the first attempt. */
  readonly attempts: number;
  readonly backoffMs: number;
}

/** A rule of an HTTPRoute or GRPCRoute, with where it came from. */
export interface RouteRule {
  /** `HTTPRoute namespace/name` or `GRPCRoute namespace/name`, and the rule's index (or name). */
  readonly route: { readonly kind: "HTTPRoute" | "GRPCRoute"; readonly namespace: string; readonly name: string; readonly rule: number | string };
  readonly filters: readonly RouteFilter[];
  /** Empty: the rule's backends resolved to nothing, or it had none (500, unless a redirect answers). */
  readonly backends: readonly RouteBackend[];
  readonly timeouts: { readonly requestMs?: number; readonly backendRequestMs?: number };
  readonly retry?: RetryPolicy;
}

/** One entry of a Service's route table: a match and the rule it selects. */
export interface RouteEntry {
  readonly match: RouteMatch;
  /** Index into {@link ServiceRoutes.rules}. */
  readonly rule: number;
  /** Only requests to this Service port (the route's parentRef `port`); absent: every port. */
  readonly port?: number;
}

/** Application protocol of a Service port, as the waypoint parses it. */
export type PortProtocol = "HTTP" | "HTTP2" | "GRPC" | "TCP";

/**
 * Everything a waypoint needs to route one Service's traffic. With no routes
 * attached, `routes` is empty and the waypoint sends each request to the
 * Service itself (the default route), as Istio's waypoint does.
 */
export interface ServiceRoutes {
  /** Service key, "namespace/hostname"; also the resource name. */
  readonly service: string;
  /** The waypoint Gateway serving it, "namespace/name". */
  readonly waypoint: string;
  /** Service port → protocol (from `appProtocol` or the port name, Istio's rules; default HTTP). */
  readonly protocols: Readonly<Record<number, PortProtocol>>;
  /** In precedence order: the first matching entry wins. */
  readonly routes: readonly RouteEntry[];
  readonly rules: readonly RouteRule[];
}

/** Everything a waypoint knows at one moment. */
export interface WaypointSnapshot {
  /** Services this waypoint serves and the ones their routes send to. */
  readonly services: readonly Service[];
  /** Endpoints of those services. */
  readonly workloads: readonly Workload[];
  readonly routes: readonly ServiceRoutes[];
  /** L7 security per Service (xds/l7_policy_resources.ts); absent: none. */
  readonly l7Policies?: readonly ServiceL7Policy[];
  /** ext_authz providers CUSTOM policies name (from the mesh config). */
  readonly extAuthzProviders?: readonly ExtAuthzHttpProvider[];
  /** Tracing and access logging per Service (xds/telemetry_resources.ts); absent: none. */
  readonly telemetry?: readonly ServiceTelemetry[];
}
