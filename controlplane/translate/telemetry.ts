/**
 * Istio's Telemetry API (`telemetry.istio.io/v1` Telemetry) → the
 * {@link ServiceTelemetry} each waypoint applies, one per Service it serves.
 * Layers, least specific first, each overriding the fields it sets: the root
 * namespace's Telemetry without a selector (mesh-wide), the waypoint's own
 * namespace's (Istio: namespace Telemetry applies to the proxies in it), then
 * one that targets the Service (`targetRefs` kind Service), its waypoint
 * (`targetRefs` kind Gateway, or `selector` on the waypoint's
 * `gateway.networking.k8s.io/gateway-name` label). Within a layer the oldest
 * object wins, as Istio orders conflicting config. Fields Ambit does not
 * implement get a warning naming the field.
 *
 * @module
 */
import { describeObject, type KubeObject } from "../../config/objects.ts";
import type { CustomTag, ServiceTelemetry, TracingProvider } from "../../xds/telemetry_resources.ts";
import { groupObjects } from "./_objects.ts";
import { arr, rec, spec, str } from "./_read.ts";
import { serviceWaypoints } from "./_service_waypoints.ts";
import type { MeshTracing } from "./_tracing_providers.ts";
import type { ObjectWarning } from "./_types.ts";
import { GATEWAY_NAME_LABEL } from "./_waypoints.ts";

/** Istio's default when a Telemetry turns tracing on without a percentage (meshConfig.defaultConfig.tracing.sampling). */
export const DEFAULT_SAMPLING_PERCENTAGE = 1;

/** What a translation needs beside the objects. */
export interface TelemetryOptions {
  readonly clusterDomain: string;
  readonly rootNamespace: string;
  readonly mesh: Pick<MeshTracing, "tracingProviders" | "defaultTracingProviders">;
}

/** One Telemetry's settings, before layering. */
interface Layer {
  tracing?: { providers?: string[]; percentage?: number; disabled?: boolean; customTags: Record<string, CustomTag> };
  accessLogging?: boolean;
  metrics?: boolean;
}

/** Each waypoint ("namespace/name") → the ServiceTelemetry of the Services it serves, and the warnings. */
export function translateTelemetry(objects: readonly KubeObject[], options: TelemetryOptions): { byWaypoint: Map<string, ServiceTelemetry[]>; warnings: ObjectWarning[] } {
  const warnings: ObjectWarning[] = [];
  const bindings = serviceWaypoints(groupObjects(objects), options.clusterDomain);
  const telemetries = objects.filter((o) => o.kind === "Telemetry")
    .sort((a, b) => (a.metadata.creationTimestamp ?? "").localeCompare(b.metadata.creationTimestamp ?? "") || describeObject(a).localeCompare(describeObject(b)));
  const meshWide: Layer[] = [];
  const byNamespace = new Map<string, Layer[]>();
  const byService = new Map<string, Layer[]>();
  const push = <K>(m: Map<K, Layer[]>, k: K, l: Layer) => m.set(k, [...(m.get(k) ?? []), l]);
  for (const t of telemetries) {
    const warn = (message: string) => warnings.push({ object: describeObject(t), message });
    const layer = readLayer(t, warn);
    const s = spec(t);
    const ns = t.metadata.namespace ?? "default";
    const refs = [...arr(s.targetRefs), ...(Object.keys(rec(s.targetRef)).length ? [s.targetRef] : [])].map(rec);
    const selector = rec(rec(s.selector).matchLabels);
    if (refs.length > 0) {
      refs.forEach((ref, i) => {
        const kind = str(ref.kind), name = str(ref.name) ?? "";
        const keys = kind === "Service" ? [bindings.serviceKey(ns, name)].filter((k): k is string => !!k) : kind === "Gateway" ? bindings.gatewayServices(ns, name) : [];
        if (kind !== "Service" && kind !== "Gateway") warn(`spec.targetRefs[${i}].kind: ${kind ?? "(none)"} is not supported at the waypoint (use Service or Gateway)`);
        else if (keys.length === 0) warn(`spec.targetRefs[${i}]: ${kind} ${ns}/${name} ${kind === "Service" ? "not found" : "is not a waypoint serving any Service"}`);
        for (const k of keys) push(byService, k, layer);
      });
    } else if (Object.keys(rec(s.selector)).length > 0) {
      const gateway = str(selector[GATEWAY_NAME_LABEL]);
      if (!gateway || Object.keys(selector).length !== 1) warn(`spec.selector: selects workloads' sidecars, which Ambit has not; at a waypoint only the ${GATEWAY_NAME_LABEL} label selects (or use targetRefs)`);
      else for (const k of bindings.gatewayServices(ns, gateway)) push(byService, k, layer);
    } else if (ns === options.rootNamespace) meshWide.push(layer);
    else push(byNamespace, ns, layer);
  }
  const providers = new Map<string, TracingProvider>(options.mesh.tracingProviders.map((p) => [p.name, p]));
  const byWaypoint = new Map<string, ServiceTelemetry[]>();
  for (const [service, wp] of [...bindings.waypointOfService].sort(([a], [b]) => a.localeCompare(b))) {
    if (!wp) continue;
    const layers = [...meshWide, ...(byNamespace.get(wp.split("/")[0]!) ?? []), ...(byService.get(service) ?? [])];
    if (layers.length === 0) continue;
    const merged = mergeLayers(layers);
    const out: { service: string; tracing?: ServiceTelemetry["tracing"]; accessLogging?: boolean; metrics?: boolean } = { service };
    if (merged.accessLogging !== undefined) out.accessLogging = merged.accessLogging;
    if (merged.metrics !== undefined) out.metrics = merged.metrics;
    const t = merged.tracing;
    if (t && !t.disabled) {
      const name = t.providers?.[0] ?? options.mesh.defaultTracingProviders[0];
      const provider = name ? providers.get(name) : undefined;
      if (provider) out.tracing = { provider, randomSamplingPercentage: t.percentage ?? DEFAULT_SAMPLING_PERCENTAGE, customTags: t.customTags };
      else {
        const object = telemetries.find((o) => arr(spec(o).tracing).length > 0);
        const message = name
          ? `spec.tracing[0].providers[0].name: no opentelemetry extensionProvider named "${name}" in the mesh config; Service ${service} is not traced`
          : `spec.tracing[0].providers: none named and the mesh config has no defaultProviders.tracing; Service ${service} is not traced`;
        if (object) warnings.push({ object: describeObject(object), message });
      }
    }
    byWaypoint.set(wp, [...(byWaypoint.get(wp) ?? []), out]);
  }
  return { byWaypoint, warnings };
}

/** Later layers override the fields they set; custom tags merge by name. */
function mergeLayers(layers: readonly Layer[]): Layer {
  const out: Layer = {};
  for (const l of layers) {
    if (l.accessLogging !== undefined) out.accessLogging = l.accessLogging;
    if (l.metrics !== undefined) out.metrics = l.metrics;
    if (!l.tracing) continue;
    const prev = out.tracing ?? { customTags: {} };
    out.tracing = {
      providers: l.tracing.providers ?? prev.providers,
      percentage: l.tracing.percentage ?? prev.percentage,
      disabled: l.tracing.disabled ?? prev.disabled,
      customTags: { ...prev.customTags, ...l.tracing.customTags },
    };
  }
  return out;
}

const TRACING_FIELDS = new Set(["providers", "randomSamplingPercentage", "disableSpanReporting", "customTags", "match"]);
const ACCESS_LOG_FIELDS = new Set(["providers", "disabled", "match"]);

/** Reads one Telemetry's tracing and accessLogging, warning on what is not implemented. */
function readLayer(t: KubeObject, warn: (m: string) => void): Layer {
  const s = spec(t);
  const layer: Layer = {};
  layer.metrics = readMetrics(arr(s.metrics).map(rec), warn);
  if (layer.metrics === undefined) delete layer.metrics;
  const tracing = arr(s.tracing).map(rec);
  if (tracing.length > 1) warn("spec.tracing: only the first entry is applied");
  const tr = tracing[0];
  if (tr) {
    for (const k of Object.keys(tr)) if (!TRACING_FIELDS.has(k)) warn(`spec.tracing[0].${k} is not supported and is ignored`);
    const mode = str(rec(tr.match).mode);
    if (mode && mode !== "CLIENT_AND_SERVER" && mode !== "SERVER") warn(`spec.tracing[0].match.mode: ${mode} is not applied (a waypoint's spans are its server and client spans together)`);
    const names = arr(tr.providers).map((p) => str(rec(p).name)).filter((n): n is string => !!n);
    if (names.length > 1) warn("spec.tracing[0].providers: only the first provider is used");
    const pct = tr.randomSamplingPercentage;
    let percentage: number | undefined;
    if (pct !== undefined) {
      const n = typeof pct === "number" ? pct : Number(rec(pct).value ?? pct);
      if (!Number.isFinite(n) || n < 0 || n > 100) warn("spec.tracing[0].randomSamplingPercentage: must be between 0 and 100; ignored");
      else percentage = n;
    }
    const customTags: Record<string, CustomTag> = {};
    for (const [name, raw] of Object.entries(rec(tr.customTags))) {
      const v = rec(raw);
      const lit = rec(v.literal), env = rec(v.environment), hdr = rec(v.header);
      if (str(lit.value) !== undefined) customTags[name] = { literal: { value: str(lit.value)! } };
      else if (str(env.name)) customTags[name] = { environment: { name: str(env.name)!, ...(str(env.defaultValue) !== undefined ? { defaultValue: str(env.defaultValue)! } : {}) } };
      else if (str(hdr.name)) customTags[name] = { header: { name: str(hdr.name)!, ...(str(hdr.defaultValue) !== undefined ? { defaultValue: str(hdr.defaultValue)! } : {}) } };
      else warn(`spec.tracing[0].customTags.${name}: needs literal.value, environment.name or header.name; ignored`);
    }
    layer.tracing = {
      ...(names.length ? { providers: names } : {}),
      ...(percentage !== undefined ? { percentage } : {}),
      ...(typeof tr.disableSpanReporting === "boolean" ? { disabled: tr.disableSpanReporting } : {}),
      customTags,
    };
  }
  const logs = arr(s.accessLogging).map(rec);
  if (logs.length > 1) warn("spec.accessLogging: only the first entry is applied");
  const al = logs[0];
  if (al) {
    for (const k of Object.keys(al)) if (!ACCESS_LOG_FIELDS.has(k)) warn(`spec.accessLogging[0].${k} is not supported and is ignored`);
    const mode = str(rec(al.match).mode);
    if (mode && mode !== "CLIENT_AND_SERVER" && mode !== "SERVER") warn(`spec.accessLogging[0].match.mode: ${mode} is not applied`);
    layer.accessLogging = al.disabled !== true;
  }
  return layer;
}

/** `metrics[0].overrides[]`: only the switch for every metric (`disabled`, no `match`) is applied. */
function readMetrics(metrics: readonly Readonly<Record<string, unknown>>[], warn: (m: string) => void): boolean | undefined {
  if (metrics.length > 1) warn("spec.metrics: only the first entry is applied");
  const m = metrics[0];
  if (!m) return undefined;
  for (const k of Object.keys(m)) if (k !== "overrides" && k !== "providers") warn(`spec.metrics[0].${k} is not supported and is ignored`);
  let on: boolean | undefined;
  arr(m.overrides).map(rec).forEach((o, i) => {
    if (o.match !== undefined || o.tagOverrides !== undefined) warn(`spec.metrics[0].overrides[${i}]: match and tagOverrides are not supported; only disabled for every metric is applied`);
    else if (typeof o.disabled === "boolean") on = !o.disabled;
  });
  return on;
}
