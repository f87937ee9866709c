// gateway.networking.k8s.io Gateway: in Ambit, mostly waypoints
// (gatewayClassName istio-waypoint, listener mesh/15008/HBONE).
import { z } from "zod";
import { annotationMap, checkUnique, dnsSubdomain, labelMap, labelSelector, port } from "./_common.ts";
import { anyStatus, envelope } from "./_meta.ts";
import { checkGatewayAddresses, checkListenerTls } from "./_gateway_api_rules.ts";

/** apiVersions served for Gateway and HTTPRoute, newest first. */
export const GATEWAY_API_VERSIONS = ["gateway.networking.k8s.io/v1", "gateway.networking.k8s.io/v1beta1"] as const;

const HOSTNAME_RE = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const PROTOCOL_RE = /^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/[A-Za-z0-9]+$/;

/** Gateway API Hostname: lower case, optionally `*.`-prefixed, no IPs' ports. */
export const gatewayHostname = z.string().refine((s) => s.length <= 253 && HOSTNAME_RE.test(s), {
  error: (i) => `${JSON.stringify(i.input)} must be a lower-case hostname such as "example.com" or "*.example.com"`,
});
/** Gateway API Duration: `10s`, `1m30s`, `500ms`. */
export const gatewayDuration = z.string().regex(/^([0-9]{1,5}(h|m|s|ms)){1,4}$/, "must be a duration such as \"10s\", \"1m30s\" or \"500ms\"");

const secretRef = z.strictObject({ group: z.string().optional(), kind: z.string().optional(), name: z.string().min(1), namespace: z.string().optional() });

/** `spec.listeners[]` of a Gateway. */
export const ListenerSchema = z.strictObject({
  name: dnsSubdomain,
  hostname: gatewayHostname.optional(),
  port,
  protocol: z.string().refine((p) => p.length <= 255 && PROTOCOL_RE.test(p), {
    error: (i) => `${JSON.stringify(i.input)} must be a protocol such as HTTP, HTTPS, TLS, TCP, UDP or HBONE`,
  }),
  tls: z.strictObject({
    mode: z.enum(["Terminate", "Passthrough"]).optional(),
    certificateRefs: z.array(secretRef).max(64).optional(),
    options: z.record(z.string(), z.string().max(4096)).refine((o) => Object.keys(o).length <= 16, "may have at most 16 options").optional(),
  }).optional(),
  allowedRoutes: z.strictObject({
    namespaces: z.strictObject({ from: z.enum(["All", "Same", "Selector"]).optional(), selector: labelSelector.optional() }).optional(),
    kinds: z.array(z.strictObject({ group: z.string().optional(), kind: z.string().min(1) })).max(8).optional(),
  }).optional(),
});

/** Gateway `spec`: class, listeners (unique names), addresses. */
export const GatewaySpecSchema = z.strictObject({
  gatewayClassName: z.string().min(1).max(253),
  listeners: z.array(ListenerSchema).min(1, "must list at least one listener").max(64),
  addresses: z.array(z.strictObject({ type: z.string().optional(), value: z.string().min(1).max(253).optional() })).max(16).optional(),
  infrastructure: z.strictObject({
    labels: labelMap.refine((m) => Object.keys(m).length <= 8, "may have at most 8 labels").optional(),
    annotations: annotationMap.refine((m) => Object.keys(m).length <= 8, "may have at most 8 annotations").optional(),
    parametersRef: z.strictObject({ group: z.string(), kind: z.string(), name: z.string() }).optional(),
  }).optional(),
}).superRefine((spec, ctx) => {
  spec.listeners.forEach((l, i) => {
    if (l.tls && ["HTTP", "TCP", "UDP"].includes(l.protocol)) {
      ctx.addIssue({ code: "custom", path: ["listeners", i, "tls"], message: `must not be set for protocol ${l.protocol}` });
    }
    if (l.hostname && ["TCP", "UDP"].includes(l.protocol)) {
      ctx.addIssue({ code: "custom", path: ["listeners", i, "hostname"], message: `must not be set for protocol ${l.protocol}` });
    }
  });
  checkListenerTls(spec.listeners, ctx);
  checkGatewayAddresses(spec.addresses, ctx);
  checkUnique(spec.listeners, (l) => l.name, ctx, ["listeners"], "listener name");
  checkUnique(spec.listeners, (l) => `${l.port}/${l.protocol}/${l.hostname ?? ""}`, ctx, ["listeners"], "port, protocol and hostname");
});

/** A whole Gateway API Gateway object. */
export const GatewaySchema = z.strictObject({
  ...envelope(GATEWAY_API_VERSIONS, "Gateway", { namespaced: true }),
  spec: GatewaySpecSchema,
  status: anyStatus,
});

/** A Gateway API Gateway as Ambit stores it. */
export type Gateway = z.output<typeof GatewaySchema>;
