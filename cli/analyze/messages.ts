/**
 * What `ambit analyze` reports, in istioctl's shape:
 * `Warning [IST0127] (AuthorizationPolicy demo/ghost policy.yaml) spec.selector.matchLabels: …`.
 * Istio's codes where Istio has the same check; Ambit's own (AMB…) where the
 * check is about what ztunnel can enforce.
 * @module
 */

export type Level = "Error" | "Warning" | "Info";

/** Every message kind: its code, level and stable name. */
export const MESSAGE_KINDS = {
  SchemaValidationError: { code: "IST0106", level: "Error" },
  ReferencedResourceNotFound: { code: "IST0101", level: "Warning" },
  NoMatchingWorkloadsFound: { code: "IST0127", level: "Warning" },
  IntakeWarning: { code: "AMB0001", level: "Info" },
  L7PolicyWithoutWaypoint: { code: "AMB0101", level: "Warning" },
  ServiceWithoutEndpoints: { code: "AMB0102", level: "Warning" },
  ForeignTrustDomain: { code: "AMB0103", level: "Warning" },
  RouteWithoutWaypoint: { code: "AMB0104", level: "Warning" },
  RouteNotAllowedByWaypoint: { code: "AMB0105", level: "Warning" },
  JwtIssuerWithoutKeys: { code: "AMB0106", level: "Warning" },
} as const satisfies Record<string, { code: string; level: Level }>;

export type MessageName = keyof typeof MESSAGE_KINDS;

/** One finding. */
export interface AnalysisMessage {
  readonly level: Level;
  readonly code: string;
  readonly name: MessageName;
  /** `Kind namespace/name`. */
  readonly object?: string;
  readonly file?: string;
  readonly document?: number;
  /** Field path in Kubernetes spelling. */
  readonly field?: string;
  readonly message: string;
}

/** Builds a message of a kind. */
export function message(name: MessageName, at: { object?: string; file?: string; document?: number; field?: string }, text: string): AnalysisMessage {
  const { code, level } = MESSAGE_KINDS[name];
  return { level, code, name, ...at, message: text };
}

/** `Warning [IST0127] (AuthorizationPolicy demo/ghost policy.yaml#2) spec.selector: …` */
export function formatMessage(m: AnalysisMessage): string {
  const where = m.file ? `${m.file}${m.document !== undefined ? `#${m.document}` : ""}` : "";
  const subject = [m.object, where].filter(Boolean).join(" ");
  return `${m.level} [${m.code}]${subject ? ` (${subject})` : ""} ${m.field ? `${m.field}: ` : ""}${m.message}`;
}
