// networking.istio.io ServiceEntry: adds a service (often outside the mesh)
// to the registry, with its hosts, ports and endpoints.
import { z } from "zod";
import { checkUnique, dnsLabel, hostname, ipOrCidr, isDnsLabel, isIpAddress, labelMap, port } from "./_common.ts";
import { anyStatus, envelope } from "./_meta.ts";
import { checkWorkloadEntry, ISTIO_NETWORKING_VERSIONS, workloadEntryFields } from "./workload_entry.ts";

const PROTOCOLS = new Set(["HTTP", "HTTPS", "GRPC", "GRPC-WEB", "HTTP2", "HTTP_PROXY", "MONGO", "MYSQL", "REDIS", "TCP", "TLS", "UDP"]);

/** `spec.ports[]` of a ServiceEntry. */
export const ServiceEntryPortSchema = z.strictObject({
  number: port,
  protocol: z.string().refine((p) => PROTOCOLS.has(p.toUpperCase()), {
    error: (i) => `${JSON.stringify(i.input)} must be one of ${[...PROTOCOLS].join(", ")}`,
  }).optional(),
  name: dnsLabel,
  targetPort: port.optional(),
});

const ServiceEntrySpecBase = z.strictObject({
  hosts: z.array(hostname).min(1),
  addresses: z.array(ipOrCidr).optional(),
  ports: z.array(ServiceEntryPortSchema).optional(),
  location: z.enum(["MESH_EXTERNAL", "MESH_INTERNAL"]).optional(),
  resolution: z.enum(["NONE", "STATIC", "DNS", "DNS_ROUND_ROBIN"]).optional(),
  endpoints: z.array(z.strictObject(workloadEntryFields)).optional(),
  workloadSelector: z.strictObject({ labels: labelMap.optional() }).optional(),
  exportTo: z.array(z.string()).optional(),
  subjectAltNames: z.array(z.string()).optional(),
});

/** ServiceEntry `spec`. */
export const ServiceEntrySpecSchema = ServiceEntrySpecBase.superRefine((spec, ctx) => {
  if (spec.endpoints && spec.workloadSelector) {
    ctx.addIssue({ code: "custom", path: ["workloadSelector"], message: "only one of endpoints or workloadSelector may be set" });
  }
  if ((spec.resolution ?? "NONE") === "NONE" && (spec.endpoints ?? []).length > 0) {
    ctx.addIssue({ code: "custom", path: ["endpoints"], message: "must be empty when resolution is NONE" });
  }
  spec.endpoints?.forEach((e, i) => {
    checkWorkloadEntry(e, ctx, ["endpoints", i]);
    if (spec.resolution === "STATIC" && e.address && !isIpAddress(e.address) && !e.address.startsWith("unix://")) {
      ctx.addIssue({ code: "custom", path: ["endpoints", i, "address"], message: `${JSON.stringify(e.address)} must be an IP address when resolution is STATIC` });
    }
  });
  checkServiceEntryHosts(spec, ctx);
  checkServiceEntryResolution(spec, ctx);
  checkExportTo(spec.exportTo, ctx);
  checkUnique(spec.ports, (p) => p.number, ctx, ["ports"], "port number");
  checkUnique(spec.ports, (p) => p.name, ctx, ["ports"], "port name");
});

/** istiod's ValidateServiceEntry rules on hosts, resolution and endpoint ports. */
function checkServiceEntryHosts(spec: z.output<typeof ServiceEntrySpecBase>, ctx: z.RefinementCtx): void {
  spec.hosts.forEach((h, i) => {
    if (h === "*") ctx.addIssue({ code: "custom", path: ["hosts", i], message: `invalid host "*": a ServiceEntry must name its hosts` });
  });
  const endpoints = spec.endpoints ?? [];
  if ((spec.resolution === "DNS" || spec.resolution === "DNS_ROUND_ROBIN") && endpoints.length === 0 && !spec.workloadSelector) {
    spec.hosts.forEach((h, i) => {
      if (h.startsWith("*")) ctx.addIssue({ code: "custom", path: ["hosts", i], message: `wildcard host ${JSON.stringify(h)} cannot be resolved by DNS: list endpoints or use resolution NONE` });
    });
  }
  if (spec.resolution === "DNS_ROUND_ROBIN" && endpoints.length > 1) {
    ctx.addIssue({ code: "custom", path: ["endpoints"], message: `resolution DNS_ROUND_ROBIN takes at most one endpoint, not ${endpoints.length}` });
  }
  const declared = new Set((spec.ports ?? []).map((p) => p.name));
  endpoints.forEach((e, i) => {
    for (const name of Object.keys(e.ports ?? {})) {
      if (!declared.has(name)) ctx.addIssue({ code: "custom", path: ["endpoints", i, "ports", name], message: `port ${JSON.stringify(name)} is not one of the ServiceEntry's ports (${[...declared].join(", ") || "none"})` });
    }
  });
}

/** istiod's ValidateServiceEntry rules on CIDR addresses and the workload selector. */
function checkServiceEntryResolution(spec: z.output<typeof ServiceEntrySpecBase>, ctx: z.RefinementCtx): void {
  const resolution = spec.resolution ?? "NONE";
  const cidr = (spec.addresses ?? []).findIndex((a) => a.includes("/"));
  if (cidr >= 0 && resolution !== "NONE" && resolution !== "STATIC") {
    ctx.addIssue({ code: "custom", path: ["addresses", cidr], message: `CIDR addresses are allowed only for NONE/STATIC resolution types, not ${resolution}` });
  }
  if (spec.workloadSelector && Object.keys(spec.workloadSelector.labels ?? {}).length === 0) {
    ctx.addIssue({ code: "custom", path: ["workloadSelector"], message: "configured workloadSelector but no labels provided" });
  }
}

/** istiod's validateExportTo: ".", "*", "~" or namespaces, each once; "*" and "~" only alone. */
export function checkExportTo(exportTo: readonly string[] | undefined, ctx: z.RefinementCtx): void {
  if (!exportTo) return;
  const seen = new Set<string>();
  exportTo.forEach((e, i) => {
    if (seen.has(e)) ctx.addIssue({ code: "custom", path: ["exportTo", i], message: `duplicate entries in exportTo: ${JSON.stringify(e)}` });
    seen.add(e);
    if (e !== "." && e !== "*" && e !== "~" && !isDnsLabel(e)) {
      ctx.addIssue({ code: "custom", path: ["exportTo", i], message: `${JSON.stringify(e)} must be ".", "*", "~" or a namespace name` });
    }
  });
  for (const alone of ["*", "~"]) {
    if (seen.has(alone) && seen.size > 1) {
      ctx.addIssue({ code: "custom", path: ["exportTo"], message: `${JSON.stringify(alone)} cannot be combined with other exportTo values` });
    }
  }
}

/** A whole ServiceEntry object. */
export const ServiceEntrySchema = z.strictObject({
  ...envelope(ISTIO_NETWORKING_VERSIONS, "ServiceEntry", { namespaced: true }),
  spec: ServiceEntrySpecSchema,
  status: anyStatus,
});

/** An Istio ServiceEntry as Ambit stores it. */
export type ServiceEntry = z.output<typeof ServiceEntrySchema>;
