// The mesh config's `extensionProviders[].opentelemetry` (Istio's shape:
// service, port, optional `http: {path}`) and `defaultProviders.tracing`,
// resolved to OTLP/HTTP protobuf endpoints — the only export Ambit has. A
// provider without `http` (gRPC in Istio) is exported over HTTP to the same
// port, with a warning naming the field.
import { ConfigError } from "../../config/errors.ts";
import type { TracingProvider } from "../../xds/telemetry_resources.ts";
import { arr, rec, str, strings } from "./_read.ts";

/** What the mesh config says about tracing. */
export interface MeshTracing {
  readonly tracingProviders: readonly TracingProvider[];
  /** `defaultProviders.tracing`: used when a Telemetry names none. */
  readonly defaultTracingProviders: readonly string[];
  readonly warnings: readonly string[];
}

/** Reads the tracing providers of a parsed mesh config; throws ConfigError naming the field. */
export function meshTracing(file: string, mesh: Readonly<Record<string, unknown>>): MeshTracing {
  const providers: TracingProvider[] = [];
  const warnings: string[] = [];
  arr(mesh.extensionProviders).forEach((p, i) => {
    const o = rec(rec(p).opentelemetry);
    if (Object.keys(o).length === 0) return;
    const name = str(rec(p).name) ?? "";
    const field = `extensionProviders[${i}].opentelemetry`;
    const service = str(o.service) ?? "";
    const port = Number(o.port);
    const problem = !name ? { field: `extensionProviders[${i}].name`, message: "is required" }
      : !/^[A-Za-z0-9.:_-]+$/.test(service) ? { field: `${field}.service`, message: "must be a host name or address" }
      : !Number.isInteger(port) || port < 1 || port > 65535 ? { field: `${field}.port`, message: "must be a port number, 1-65535" }
      : undefined;
    if (problem) throw new ConfigError([{ file, object: `extensionProvider ${name}`, ...problem }]);
    const http = rec(o.http);
    let path = str(http.path) ?? "/v1/traces";
    if (!path.startsWith("/")) path = `/${path}`;
    if (Object.keys(http).length === 0) warnings.push(`${file}: ${field}: gRPC export is not supported; spans go over OTLP/HTTP protobuf to port ${port}${path}`);
    for (const k of Object.keys(o)) if (!["service", "port", "http", "maxTagLength"].includes(k)) warnings.push(`${file}: ${field}.${k} is not supported and is ignored`);
    const host = service.includes(":") ? `[${service}]` : service;
    providers.push({ name, endpoint: `http://${host}:${port}${path}` });
  });
  return { tracingProviders: providers, defaultTracingProviders: strings(rec(mesh.defaultProviders).tracing), warnings };
}
