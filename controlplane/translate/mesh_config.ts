/**
 * Istio's mesh config (`meshConfig` / the `mesh` key of the istio ConfigMap),
 * as much as Ambit reads of it: `extensionProviders[].envoyExtAuthzHttp`, the
 * ext_authz services CUSTOM AuthorizationPolicies name, and the `opentelemetry`
 * providers the Telemetry API names (_tracing_providers.ts). Given to the
 * controlplane as a file (--mesh-config); the providers go to every waypoint.
 *
 * @module
 */
import { parse } from "yaml";
import { ConfigError } from "../../config/errors.ts";
import type { ExtAuthzHttpProvider } from "../../xds/l7_policy_resources.ts";
import { extAuthzHttpProviderSchema } from "../../xds/l7_policy_resource_schemas.ts";
import { durationMs } from "./l7_policy.ts";
import { arr, rec, str, strings } from "./_read.ts";
import { type MeshTracing, meshTracing } from "./_tracing_providers.ts";

/** The ext_authz providers a mesh config declares; throws ConfigError naming the file and field. */
export function parseMeshConfig(file: string, text: string): { readonly extAuthzProviders: readonly ExtAuthzHttpProvider[] } & MeshTracing {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (e) {
    throw new ConfigError([{ file, field: "", message: `not YAML: ${(e as Error).message.split("\n")[0]}` }]);
  }
  // Accept the bare mesh config, `meshConfig:` (IstioOperator / Helm values) or a ConfigMap's `data.mesh` text.
  let mesh = rec(raw);
  if (mesh.meshConfig) mesh = rec(mesh.meshConfig);
  else if (typeof rec(mesh.data).mesh === "string") mesh = rec(parse(rec(mesh.data).mesh as string));
  const providers: ExtAuthzHttpProvider[] = [];
  arr(mesh.extensionProviders).forEach((p, i) => {
    const name = str(rec(p).name) ?? "";
    const h = rec(rec(p).envoyExtAuthzHttp);
    if (Object.keys(h).length === 0) return;
    const candidate = {
      name,
      service: str(h.service) ?? "",
      port: Number(h.port),
      pathPrefix: str(h.pathPrefix) ?? "",
      timeoutMs: durationMs(str(h.timeout)) ?? 600,
      failOpen: h.failOpen === true,
      statusOnError: h.statusOnError === undefined ? 403 : Number(h.statusOnError),
      includeRequestHeadersInCheck: strings(h.includeRequestHeadersInCheck),
      includeAdditionalHeadersInCheck: Object.fromEntries(Object.entries(rec(h.includeAdditionalHeadersInCheck)).map(([k, v]) => [k, String(v)])),
      headersToUpstreamOnAllow: strings(h.headersToUpstreamOnAllow),
      headersToDownstreamOnDeny: strings(h.headersToDownstreamOnDeny),
      headersToDownstreamOnAllow: strings(h.headersToDownstreamOnAllow),
    };
    const checked = extAuthzHttpProviderSchema.safeParse(candidate);
    if (!checked.success) {
      const issue = checked.error.issues[0]!;
      throw new ConfigError([{ file, object: `extensionProvider ${name}`, field: `extensionProviders[${i}].envoyExtAuthzHttp.${issue.path.join(".")}`, message: issue.message }]);
    }
    providers.push(checked.data);
  });
  return { extAuthzProviders: providers, ...meshTracing(file, mesh) };
}
