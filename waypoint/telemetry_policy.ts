// The Telemetry the controlplane sent for each Service, indexed once per state.
import type { ServiceTelemetry } from "../xds/telemetry_resources.ts";
import type { WaypointState } from "./state.ts";

const indexes = new WeakMap<WaypointState, ReadonlyMap<string, ServiceTelemetry>>();

/** A Service's tracing and access-log settings, or undefined when no Telemetry applies to it. */
export function telemetryFor(state: WaypointState, serviceKey: string): ServiceTelemetry | undefined {
  let index = indexes.get(state);
  if (!index) {
    index = new Map((state.snapshot.telemetry ?? []).map((t) => [t.service, t]));
    indexes.set(state, index);
  }
  return index.get(serviceKey);
}
