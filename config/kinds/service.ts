// v1 Service: a VIP and ports in front of the workloads its selector picks.
import { z } from "zod";
import { checkUnique, dnsLabel, ipAddress, isIpAddress, labelMap, port } from "./_common.ts";
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

/** Service `spec`: ports are required unless the Service is headless or ExternalName. */
export const ServiceSpecSchema = z.strictObject({
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
}).superRefine((spec, ctx) => {
  const headless = spec.clusterIP === "None" || spec.type === "ExternalName";
  if (!headless && (spec.ports ?? []).length === 0) ctx.addIssue({ code: "custom", path: ["ports"], message: "must list at least one port" });
  if ((spec.ports ?? []).length > 1) {
    spec.ports!.forEach((p, i) => {
      if (!p.name) ctx.addIssue({ code: "custom", path: ["ports", i, "name"], message: "required when a Service has more than one port" });
    });
  }
  checkUnique(spec.ports, (p) => p.name, ctx, ["ports"], "port name");
  checkUnique(spec.ports, (p) => `${p.port}/${p.protocol ?? "TCP"}`, ctx, ["ports"], "port");
});

/** A whole Service object; its name is a DNS-1035 label, as Kubernetes requires. */
export const ServiceSchema = z.strictObject({
  ...envelope(["v1"], "Service", { namespaced: true, nameRule: "dns1035" }),
  spec: ServiceSpecSchema,
  status: anyStatus,
});

/** A Kubernetes Service as Ambit stores it. */
export type Service = z.output<typeof ServiceSchema>;
