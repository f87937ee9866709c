/**
 * Delta xDS carried as JSON over HTTP/2 (docs/xds.md): the shapes on the wire,
 * the resource type URLs, and how resource versions are computed.
 *
 * @module
 */
import { createHash } from "node:crypto";

/** The resource types a ztunnel subscribes to. */
export const TYPE_URLS = {
  workload: "ambit.dev/v1/Workload",
  service: "ambit.dev/v1/Service",
  authorization: "ambit.dev/v1/Authorization",
  trustBundle: "ambit.dev/v1/TrustBundle",
} as const;
/**
 * The L7 type only waypoints subscribe to (xds/waypoint_resources.ts). Kept out of
 * {@link TYPE_URLS} so ztunnels, which subscribe to ALL_TYPE_URLS, never ask for it.
 */
export const SERVICE_ROUTES_TYPE_URL = "ambit.dev/v1/ServiceRoutes";
/** What a waypoint subscribes to: the endpoints and services it routes to, and its routes. */
export const WAYPOINT_TYPE_URLS = [TYPE_URLS.workload, TYPE_URLS.service, SERVICE_ROUTES_TYPE_URL] as const;
export type TypeUrl = (typeof TYPE_URLS)[keyof typeof TYPE_URLS] | typeof SERVICE_ROUTES_TYPE_URL;
export const ALL_TYPE_URLS: readonly TypeUrl[] = Object.values(TYPE_URLS);

/** Who is asking: sent once when a stream opens. */
export interface XdsNode {
  /** Unique id of this proxy instance. */
  readonly id: string;
  /** The node name workloads are scheduled on. */
  readonly nodeName: string;
  readonly ips?: readonly string[];
  readonly metadata?: Readonly<Record<string, string>>;
}

/** Per-type subscription sent when a stream opens. */
export interface Subscription {
  /** Names to watch; empty or absent = wildcard (everything for this node). */
  readonly resourceNamesSubscribe?: readonly string[];
  /** What the client already has (name → version), so a resumed stream resends only changes. */
  readonly initialResourceVersions?: Readonly<Record<string, string>>;
}

/** Body of `POST /xds/v1/delta`: opens a stream. */
export interface DeltaStreamRequest {
  readonly node: XdsNode;
  readonly subscriptions: Readonly<Partial<Record<TypeUrl, Subscription>>>;
}

/** One resource in a response. */
export interface XdsResource<T = unknown> {
  readonly name: string;
  readonly version: string;
  readonly resource: T;
}

/** One NDJSON line of the stream's response. */
export interface DeltaResponse {
  readonly streamId: string;
  readonly typeUrl: TypeUrl;
  readonly nonce: string;
  readonly systemVersionInfo: string;
  readonly resources: readonly XdsResource[];
  readonly removedResources: readonly string[];
}

/** Body of `POST /xds/v1/delta/ack`: ACK (no errorDetail) or NACK. */
export interface DeltaAck {
  readonly streamId: string;
  readonly typeUrl: TypeUrl;
  readonly responseNonce: string;
  readonly errorDetail?: {
    readonly message: string;
    /** Names that could not be applied; the others in the response were applied. */
    readonly failedResources?: readonly string[];
  };
}

/**
 * A resource's version: a hash of its canonical JSON. Deterministic, so a
 * restarted controlplane computes the same versions and a resuming client
 * is sent nothing it already has.
 */
export function resourceVersion(resource: unknown): string {
  return createHash("sha256").update(canonicalJson(resource)).digest("hex").slice(0, 16);
}

/** JSON with object keys sorted, so equal values serialize equally. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value ?? null);
}
