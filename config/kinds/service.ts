// v1 Service: a VIP and ports in front of the workloads its selector picks.
import { z } from "zod";
import { checkUnique, dnsLabel, ipAddress, isDnsSubdomain, isIpAddress, labelMap, port } from "./_common.ts";
import { anyStatus, envelope } from "./_meta.ts";

const IANA_SVC_NAME = /^(?=.*[a-z])[a-z0-9]+(-[a-z0-9]+)*$/;

const clusterIP = z.string().refine((s) => s === "" || s === "None" || isIpAddress(s), {
  error: (i) => `${JSON.stringify(i.input)} must be an IP address, "None" (headless) or ""`,
});

/** `spec.ports[]` of a Service; `targetPort` is a number or a container port name. */
export const ServicePortSchema = z.strictObject({
  name: dnsLabel.optional(),
  protocol: z.enum(["TCP", "UDP", "SCTP"]).optional(),
  appProtocol: z.string().optional(),
  port,
  targetPort: z.union([
    port,
    z.string().refine((s) => s.length <= 15 && IANA_SVC_NAME.test(s), { error: "must be a port number or a port name (at most 15 lower-case letters, digits and '-')" }),
  ], { error: "must be a port number or a port name" }).optional(),
  nodePort: port.optional(),
});

const ServiceSpecBase = z.strictObject({
  selector: labelMap.optional(),
  ports: z.array(ServicePortSchema).optional(),
  clusterIP: clusterIP.optional(),
  clusterIPs: z.array(clusterIP).optional(),
  type: z.enum(["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"]).optional(),
  externalName: z.string().optional(),
  externalIPs: z.array(ipAddress).optional(),
  loadBalancerIP: z.string().optional(),
  sessionAffinity: z.enum(["ClientIP", "None"]).optional(),
  sessionAffinityConfig: z.record(z.string(), z.unknown()).optional(),
  ipFamilies: z.array(z.enum(["IPv4", "IPv6"])).optional(),
  ipFamilyPolicy: z.enum(["SingleStack", "PreferDualStack", "RequireDualStack"]).optional(),
  internalTrafficPolicy: z.enum(["Cluster", "Local"]).optional(),
  externalTrafficPolicy: z.enum(["Cluster", "Local"]).optional(),
  publishNotReadyAddresses: z.boolean().optional(),
});

/** Service `spec`: ports are required unless the Service is headless or ExternalName. */
export const ServiceSpecSchema = ServiceSpecBase.superRefine((spec, ctx) => {
  const headless = spec.clusterIP === "None" || spec.type === "ExternalName";
  if (!headless && (spec.ports ?? []).length === 0) ctx.addIssue({ code: "custom", path: ["ports"], message: "must list at least one port" });
  if ((spec.ports ?? []).length > 1) {
    spec.ports!.forEach((p, i) => {
      if (!p.name) ctx.addIssue({ code: "custom", path: ["ports", i, "name"], message: "required when a Service has more than one port" });
    });
  }
  checkUnique(spec.ports, (p) => p.name, ctx, ["ports"], "port name");
  checkUnique(spec.ports, (p) => `${p.port}/${p.protocol ?? "TCP"}`, ctx, ["ports"], "port");
  checkServiceType(spec, ctx);
});

/** apimachinery ValidateService: what each `type` allows of clusterIP, externalName, nodePort and IP families. */
function checkServiceType(spec: z.output<typeof ServiceSpecBase>, ctx: z.RefinementCtx): void {
  const type = spec.type ?? "ClusterIP";
  if (type === "ExternalName") {
    if (!spec.externalName) ctx.addIssue({ code: "custom", path: ["externalName"], message: "required for an ExternalName Service" });
    else if (!isDnsSubdomain(spec.externalName.replace(/\.$/, ""))) ctx.addIssue({ code: "custom", path: ["externalName"], message: `${JSON.stringify(spec.externalName)} must be a DNS subdomain` });
    if (spec.clusterIP) ctx.addIssue({ code: "custom", path: ["clusterIP"], message: "may not be set for an ExternalName Service" });
  }
  if (spec.clusterIP === "None" && (type === "NodePort" || type === "LoadBalancer")) {
    ctx.addIssue({ code: "custom", path: ["clusterIP"], message: `may not be "None" for a ${type} Service` });
  }
  if (spec.clusterIPs?.length && spec.clusterIP !== undefined && spec.clusterIPs[0] !== spec.clusterIP) {
    ctx.addIssue({ code: "custom", path: ["clusterIPs", 0], message: `must match spec.clusterIP (${JSON.stringify(spec.clusterIP)})` });
  }
  if (type !== "NodePort" && type !== "LoadBalancer") {
    spec.ports?.forEach((p, i) => {
      if (p.nodePort !== undefined) ctx.addIssue({ code: "custom", path: ["ports", i, "nodePort"], message: `may not be used when type is ${type}` });
    });
  }
  if (spec.externalTrafficPolicy !== undefined && type !== "NodePort" && type !== "LoadBalancer") {
    ctx.addIssue({ code: "custom", path: ["externalTrafficPolicy"], message: `may only be set when type is NodePort or LoadBalancer, not ${type}` });
  }
  const families = spec.ipFamilies ?? [];
  if (families.length > 2) ctx.addIssue({ code: "custom", path: ["ipFamilies"], message: "may list at most two families" });
  else if (families.length === 2 && families[0] === families[1]) ctx.addIssue({ code: "custom", path: ["ipFamilies", 1], message: `${families[1]} is listed twice` });
  if (families.length > 1 && (spec.ipFamilyPolicy ?? "SingleStack") === "SingleStack") {
    ctx.addIssue({ code: "custom", path: ["ipFamilies"], message: "two families need ipFamilyPolicy PreferDualStack or RequireDualStack" });
  }
}

/** A whole Service object; its name is a DNS-1035 label, as Kubernetes requires. */
export const ServiceSchema = z.strictObject({
  ...envelope(["v1"], "Service", { namespaced: true, nameRule: "dns1035" }),
  spec: ServiceSpecSchema,
  status: anyStatus,
});

/** A Kubernetes Service as Ambit stores it. */
export type Service = z.output<typeof ServiceSchema>;
