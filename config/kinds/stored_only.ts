// Kinds Ambit knows and stores but does not enforce: their metadata is
// validated, their spec kept as written, and the intake warns about each.
import { z } from "zod";
import { anyStatus, objectMeta } from "./_meta.ts";
import { GATEWAY_API_VERSIONS } from "./gateway.ts";
import { ISTIO_NETWORKING_VERSIONS } from "./workload_entry.ts";

/** A stored-only kind: where it lives and which versions are accepted. */
export interface StoredOnlyKind {
  readonly kind: string;
  readonly group: string;
  readonly apiVersions: readonly [string, ...string[]];
  readonly namespaced: boolean;
}

const GATEWAY_API_ALPHA = ["gateway.networking.k8s.io/v1alpha2"] as const;

/** Every stored-only kind. */
export const STORED_ONLY_KINDS: readonly StoredOnlyKind[] = [
  { kind: "VirtualService", group: "networking.istio.io", apiVersions: ISTIO_NETWORKING_VERSIONS, namespaced: true },
  { kind: "DestinationRule", group: "networking.istio.io", apiVersions: ISTIO_NETWORKING_VERSIONS, namespaced: true },
  { kind: "Sidecar", group: "networking.istio.io", apiVersions: ISTIO_NETWORKING_VERSIONS, namespaced: true },
  { kind: "Gateway", group: "networking.istio.io", apiVersions: ISTIO_NETWORKING_VERSIONS, namespaced: true },
  { kind: "EnvoyFilter", group: "networking.istio.io", apiVersions: ["networking.istio.io/v1alpha3"], namespaced: true },
  { kind: "ProxyConfig", group: "networking.istio.io", apiVersions: ["networking.istio.io/v1beta1"], namespaced: true },
  { kind: "WasmPlugin", group: "extensions.istio.io", apiVersions: ["extensions.istio.io/v1alpha1"], namespaced: true },
  { kind: "Telemetry", group: "telemetry.istio.io", apiVersions: ["telemetry.istio.io/v1", "telemetry.istio.io/v1alpha1"], namespaced: true },
  { kind: "TCPRoute", group: "gateway.networking.k8s.io", apiVersions: GATEWAY_API_ALPHA, namespaced: true },
  {
    kind: "TLSRoute", group: "gateway.networking.k8s.io",
    apiVersions: ["gateway.networking.k8s.io/v1", "gateway.networking.k8s.io/v1alpha3", ...GATEWAY_API_ALPHA], namespaced: true,
  },
  { kind: "ReferenceGrant", group: "gateway.networking.k8s.io", apiVersions: ["gateway.networking.k8s.io/v1beta1", ...GATEWAY_API_ALPHA], namespaced: true },
  { kind: "GatewayClass", group: "gateway.networking.k8s.io", apiVersions: GATEWAY_API_VERSIONS, namespaced: false },
];

/** The schema of a stored-only kind: envelope and metadata checked, spec and status kept as-is. */
export function storedOnlySchema(k: StoredOnlyKind) {
  return z.strictObject({
    apiVersion: z.enum(k.apiVersions),
    kind: z.literal(k.kind),
    metadata: objectMeta(k.namespaced),
    spec: z.unknown().optional(),
    status: anyStatus,
  });
}
