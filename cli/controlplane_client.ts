/**
 * The controlplane's admin API as the CLI uses it (docs/controlplane.md): over
 * h2c on the loopback dev endpoint (no credentials), or over TLS with the admin
 * token. Every failure becomes an error that says what to do next.
 *
 * @example
 * ```ts
 * const cp = controlplaneFromFlags(flags, io.env);
 * const { items } = await cp.list({ kind: "Pod", namespace: "demo" });
 * cp.close();
 * ```
 * @module
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { KubeObject } from "../config/objects.ts";
import type { ConfigProblem } from "../config/errors.ts";
import { checkControlplaneIdentity } from "../identity/system_identity.ts";
import { Http2Client } from "../runtime/http2_client.ts";
import type { StreamStatus } from "../xds/server.ts";
import type { Flags, FlagSpec } from "./args.ts";
import { CommandError, ControlplaneError, UsageError } from "./errors.ts";

/** Where `ambit dev` serves its controlplane without authentication. */
export const DEV_CONTROLPLANE_URL = "http://127.0.0.1:15010";

/** Flags of every command that talks to the controlplane. */
export const CONTROLPLANE_FLAGS: readonly FlagSpec[] = [
  {
    name: "controlplane", kind: "string", env: "AMBIT_CONTROLPLANE", default: DEV_CONTROLPLANE_URL, placeholder: "url",
    help: "controlplane URL: http:// for a loopback dev endpoint, https:// for the TLS API (admin token from $AMBIT_TOKEN or --token-file)",
  },
  { name: "token-file", kind: "string", env: "AMBIT_TOKEN_FILE", placeholder: "path", help: "admin token file, for https (default .ambit/controlplane/admin-token if present)" },
  { name: "controlplane-ca", kind: "string", env: "AMBIT_CONTROLPLANE_CA", placeholder: "path", help: "PEM root of the controlplane's certificate, for https (default .ambit/controlplane/ca/root-cert.pem if present; public roots are never used)" },
  { name: "trust-domain", kind: "string", env: "TRUST_DOMAIN", default: "cluster.local", placeholder: "domain", help: "the controlplane must present spiffe://<domain>/ambit/controlplane (https)" },
];

/** What one object went through on apply or delete, kubectl-style. */
export interface ObjectChange {
  readonly object: string;
  readonly verb: string;
}

/** One waypoint as GET /api/v1/waypoints lists it (controlplane/routes/waypoint_routes.ts). */
export interface WaypointStatus {
  readonly namespace: string;
  readonly name: string;
  readonly trafficFor: string;
  readonly identity: string;
  readonly services: readonly string[];
  readonly connected: boolean;
  readonly streams: number;
  readonly token: "active" | "revoked" | "none";
  readonly programmed: boolean;
}

/** The parts of a ServiceRoutes resource `ambit waypoint config` shows (xds/waypoint_resources.ts). */
export interface WaypointRoutesDump {
  readonly service: string;
  readonly routes: readonly { readonly rule: number; readonly match: { readonly path?: { readonly type: string; readonly value: string }; readonly headers: readonly unknown[] } }[];
  readonly rules: readonly { readonly route: { readonly kind: string; readonly namespace: string; readonly name: string; readonly rule: number | string }; readonly backends: readonly { readonly backend: { readonly kind: string; readonly service?: string; readonly port?: number; readonly reason?: string }; readonly weight: number }[] }[];
}

/** One xDS stream as GET /api/v1/proxy-status lists it. */
export type ProxyStatus = StreamStatus;

/** A client of one controlplane. */
export class ControlplaneClient {
  readonly #http: Http2Client;
  readonly #headers: Record<string, string>;

  constructor(readonly url: string, options: { token?: string; ca?: string; trustDomain?: string } = {}) {
    // Over https the controlplane proves its own identity during the handshake, before the token is sent.
    this.#http = new Http2Client(url, url.startsWith("https:") ? { ca: options.ca, checkServerIdentity: checkControlplaneIdentity(options.trustDomain ?? "cluster.local") } : {});
    this.#headers = options.token ? { authorization: `Bearer ${options.token}` } : {};
  }

  /** True when /healthz/ready answers 200. */
  async ready(timeoutMs = 2000): Promise<boolean> {
    try {
      const res = await this.#http.request("GET", "/healthz/ready", { timeoutMs });
      await res.text();
      return res.status === 200;
    } catch {
      return false;
    }
  }

  version(): Promise<{ component: string; version: string }> {
    return this.#call("GET", "/version");
  }

  /** Applies objects (sent as a JSON array; `file` names them in errors). */
  apply(objects: readonly KubeObject[], file: string, dryRun = false): Promise<{ changes: ObjectChange[]; warnings: ConfigProblem[] }> {
    return this.#call("POST", `/api/v1/apply${dryRun ? "?dryRun=true" : ""}`, JSON.stringify(objects), { "x-ambit-filename": file });
  }

  /** Deletes objects by apiVersion, kind, namespace and name. */
  delete(objects: readonly KubeObject[], file: string, dryRun = false): Promise<{ changes: ObjectChange[] }> {
    return this.#call("POST", `/api/v1/delete${dryRun ? "?dryRun=true" : ""}`, JSON.stringify(objects), { "x-ambit-filename": file });
  }

  /** Deletes one object by kind (`Gateway` or `Gateway.gateway.networking.k8s.io`), namespace and name. */
  async deleteObject(kind: string, namespace: string | undefined, name: string): Promise<{ changes: ObjectChange[] }> {
    try {
      return await this.#call("DELETE", objectPath(kind, namespace, name));
    } catch (e) {
      if (e instanceof ControlplaneError && e.status === 404) return e.body as { changes: ObjectChange[] };
      throw e;
    }
  }

  list(filter: { kind?: string; namespace?: string } = {}): Promise<{ items: KubeObject[] }> {
    const q = new URLSearchParams(Object.entries(filter).filter(([, v]) => v) as [string, string][]).toString();
    return this.#call("GET", `/api/v1/objects${q ? `?${q}` : ""}`);
  }

  /** One object, or undefined when there is none. */
  async get(kind: string, namespace: string | undefined, name: string): Promise<KubeObject | undefined> {
    try {
      return await this.#call("GET", objectPath(kind, namespace, name));
    } catch (e) {
      if (e instanceof ControlplaneError && e.status === 404) return undefined;
      throw e;
    }
  }

  proxyStatus(): Promise<{ proxies: ProxyStatus[]; nodes: unknown[] }> {
    return this.#call("GET", "/api/v1/proxy-status");
  }

  createToken(node: string, ttlSeconds?: number): Promise<{ node: string; token: string; expiresAt: string }> {
    return this.#call("POST", `/api/v1/nodes/${encodeURIComponent(node)}/token`, JSON.stringify(ttlSeconds ? { ttlSeconds } : {}));
  }

  revokeToken(node: string): Promise<{ node: string; state: string }> {
    return this.#call("DELETE", `/api/v1/nodes/${encodeURIComponent(node)}/token`);
  }

  /** Every waypoint Gateway, what it serves and whether its stream is connected (GET /api/v1/waypoints). */
  waypoints(): Promise<{ waypoints: WaypointStatus[] }> {
    return this.#call("GET", "/api/v1/waypoints");
  }

  /** What the controlplane sends waypoint namespace/name now: its Services, their endpoints, its routes. */
  waypointConfig(namespace: string, name: string): Promise<{ waypoint: string; services: unknown[]; workloads: unknown[]; routes: WaypointRoutesDump[] }> {
    return this.#call("GET", `/api/v1/waypoints/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/config`);
  }

  createWaypointToken(namespace: string, name: string): Promise<{ waypoint: string; token: string }> {
    return this.#call("POST", `/api/v1/waypoints/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/token`, "{}");
  }

  revokeWaypointToken(namespace: string, name: string): Promise<{ waypoint: string; state: string }> {
    return this.#call("DELETE", `/api/v1/waypoints/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/token`);
  }

  close(): void {
    this.#http.close();
  }

  async #call<T>(method: string, p: string, body?: string, headers: Record<string, string> = {}): Promise<T> {
    let status: number;
    let text: string;
    try {
      const res = await this.#http.request(method, p, {
        body,
        headers: { ...this.#headers, ...(body !== undefined ? { "content-type": "application/json" } : {}), ...headers },
        timeoutMs: 30_000,
      });
      status = res.status;
      text = await res.text();
    } catch (e) {
      const cause = (e as Error).message.replace(/^.*\(caused by: (.*)\)$/, "$1");
      const hint = this.url === DEV_CONTROLPLANE_URL ? " (is `ambit dev` running? Or pass --controlplane <url>)" : "";
      throw new CommandError(`cannot reach the controlplane at ${this.url}: ${cause}${hint}`, { cause: e });
    }
    const parsed = text ? safeJson(text) : undefined;
    if (status < 200 || status > 299) {
      const message = (parsed as { error?: string } | undefined)?.error ?? text.trim();
      const hint = status === 401 ? " (https needs the admin token: $AMBIT_TOKEN or --token-file)" : "";
      throw new ControlplaneError(`${method} ${p}: ${status} ${message}${hint}`, status, parsed);
    }
    return parsed as T;
  }
}

function objectPath(kind: string, namespace: string | undefined, name: string): string {
  return `/api/v1/objects/${encodeURIComponent(kind)}/${namespace ? encodeURIComponent(namespace) : "_"}/${encodeURIComponent(name)}`;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { error: text.trim() };
  }
}

/** Builds a client from {@link CONTROLPLANE_FLAGS}; over https it finds the token and CA as documented there. */
export function controlplaneFromFlags(flags: Flags, env: Readonly<Record<string, string | undefined>>, stateDir = ".ambit"): ControlplaneClient {
  const url = String(flags.controlplane ?? DEV_CONTROLPLANE_URL).replace(/\/+$/, "");
  if (!/^https?:\/\/[^/]+$/.test(url)) throw new UsageError(`--controlplane: "${url}" must be http://host:port or https://host:port`);
  if (url.startsWith("http://")) return new ControlplaneClient(url);
  const cpDir = path.join(stateDir, "controlplane");
  const readIf = (file: string | undefined, fallback: string, what: string) => {
    const f = file ?? (fs.existsSync(fallback) ? fallback : undefined);
    if (!f) return undefined;
    try {
      return fs.readFileSync(f, "utf8").trim();
    } catch (e) {
      throw new CommandError(`cannot read the ${what} ${f}: ${(e as Error).message}`);
    }
  };
  const token = env.AMBIT_TOKEN || readIf(flags["token-file"] as string | undefined, path.join(cpDir, "admin-token"), "admin token file");
  const ca = readIf(flags["controlplane-ca"] as string | undefined, path.join(cpDir, "ca", "root-cert.pem"), "controlplane CA file");
  if (!ca) {
    throw new UsageError(`${url}: https needs the root that signed the controlplane's certificate: --controlplane-ca <root-cert.pem> ` +
      `(or $AMBIT_CONTROLPLANE_CA; the dev default ${path.join(cpDir, "ca", "root-cert.pem")} does not exist). Public roots are never used.`);
  }
  return new ControlplaneClient(url, { token, ca: ca + "\n", trustDomain: String(flags["trust-domain"] ?? "cluster.local") });
}
