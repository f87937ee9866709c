/**
 * Gateway API's precedence among the matches of every route attached to one
 * Service (MESH_REFERENCE "HTTPRoute semantics"): the waypoint takes the first
 * entry that matches, so the order decided here is the routing decision.
 *
 * Ambit's choice where Gateway API leaves it to the implementation: a
 * RegularExpression path ranks after every Exact path and before every
 * PathPrefix (longer patterns first), as Istio orders them (docs/waypoint_controlplane.md).
 *
 * @module
 */
import type { RouteMatch } from "../../xds/waypoint_resources.ts";

/** One match of one rule of one route, with what breaks ties. */
export interface RankedMatch {
  readonly match: RouteMatch;
  /** The route's `metadata.creationTimestamp` (RFC 3339); absent ranks as newest. */
  readonly createdAt?: string;
  readonly namespace: string;
  readonly name: string;
  /** Index of the rule in its route, and of the match in its rule. */
  readonly ruleIndex: number;
  readonly matchIndex: number;
}

// Exact before RegularExpression before PathPrefix; a match without a path is PathPrefix "/".
const PATH_RANK = { Exact: 0, RegularExpression: 1, PathPrefix: 2 } as const;

/** Negative when `a` takes precedence over `b`. */
export function compareMatches(a: RankedMatch, b: RankedMatch): number {
  const pa = a.match.path ?? { type: "PathPrefix" as const, value: "/" };
  const pb = b.match.path ?? { type: "PathPrefix" as const, value: "/" };
  return PATH_RANK[pa.type] - PATH_RANK[pb.type] ||
    pb.value.length - pa.value.length ||
    Number(b.match.method !== undefined) - Number(a.match.method !== undefined) ||
    b.match.headers.length - a.match.headers.length ||
    b.match.queryParams.length - a.match.queryParams.length ||
    compareTime(a.createdAt, b.createdAt) ||
    compareText(`${a.namespace}/${a.name}`, `${b.namespace}/${b.name}`) ||
    a.ruleIndex - b.ruleIndex ||
    a.matchIndex - b.matchIndex;
}

/** The matches in precedence order: the first that matches a request wins. Does not modify its input. */
export function orderMatches<T extends RankedMatch>(matches: readonly T[]): T[] {
  return [...matches].sort(compareMatches);
}

function compareTime(a: string | undefined, b: string | undefined): number {
  const ta = a ? Date.parse(a) : Number.POSITIVE_INFINITY;
  const tb = b ? Date.parse(b) : Number.POSITIVE_INFINITY;
  const x = Number.isNaN(ta) ? Number.POSITIVE_INFINITY : ta;
  const y = Number.isNaN(tb) ? Number.POSITIVE_INFINITY : tb;
  return x === y ? 0 : x < y ? -1 : 1;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
