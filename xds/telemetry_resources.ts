/**
 * What the waypoint does about traces and access logs for one Service: the
 * controlplane's translation of Istio's Telemetry API (`telemetry.istio.io/v1`)
 * with the mesh config's `opentelemetry` providers resolved to an endpoint,
 * one resource per Service a waypoint serves, named by its service key.
 * Streamed as `ambit.dev/v1/ServiceTelemetry` to waypoints only.
 *
 * @module
 */
import { z } from "zod";

/** The type URL of {@link ServiceTelemetry} on the delta-xDS stream. */
export const SERVICE_TELEMETRY_TYPE_URL = "ambit.dev/v1/ServiceTelemetry" as const;

/** A span attribute from a literal, the proxy's environment or a request header (Istio's `customTags`). */
export type CustomTag =
  | { readonly literal: { readonly value: string } }
  | { readonly environment: { readonly name: string; readonly defaultValue?: string } }
  | { readonly header: { readonly name: string; readonly defaultValue?: string } };

/** Where spans go: an OTLP/HTTP protobuf endpoint (`http://host:port/v1/traces`). */
export interface TracingProvider {
  readonly name: string;
  readonly endpoint: string;
}

/** Tracing and access logging for one Service's requests at its waypoint. */
export interface ServiceTelemetry {
  /** Service key, "namespace/hostname"; also the resource name. */
  readonly service: string;
  /** Absent: no spans are made (trace headers still pass through untouched). */
  readonly tracing?: {
    readonly provider: TracingProvider;
    /** 0–100, for traces that start at the waypoint; a caller's decision is kept. */
    readonly randomSamplingPercentage: number;
    readonly customTags: Readonly<Record<string, CustomTag>>;
  };
  /** Absent: the waypoint's `--access-log` flag decides. */
  readonly accessLogging?: boolean;
  /** False: Istio's request metrics are not reported for this Service (Telemetry `metrics[].overrides[].disabled`). Absent: reported. */
  readonly metrics?: boolean;
}

const tagValue = z.object({ name: z.string().min(1).max(256), defaultValue: z.string().max(1024).optional() });
const customTag = z.union([
  z.object({ literal: z.object({ value: z.string().max(1024) }) }),
  z.object({ environment: tagValue }),
  z.object({ header: tagValue }),
]);

/** Checks a ServiceTelemetry as it arrives over xDS or from a local file. */
export const serviceTelemetrySchema: z.ZodType<ServiceTelemetry> = z.object({
  service: z.string().min(1),
  tracing: z.object({
    provider: z.object({ name: z.string().min(1), endpoint: z.string().regex(/^https?:\/\/[^/\s]+\/\S*$/, "must be an http(s) URL with a path") }),
    randomSamplingPercentage: z.number().min(0).max(100),
    customTags: z.record(z.string().min(1).max(256), customTag).default({}),
  }).optional(),
  accessLogging: z.boolean().optional(),
  metrics: z.boolean().optional(),
}) as z.ZodType<ServiceTelemetry>;
