// Node authentication in Kubernetes mode, as istiod's: a ztunnel joins with its
// projected ServiceAccount token (audience `ambit`); the API server reviews it
// (TokenReview) and says whose it is and, for a bound pod token, on which node
// the pod runs. Only the ztunnel's ServiceAccounts may join, and only as the
// node their pod is on — a stolen workload token, or a ztunnel token replayed
// for another node, gets nothing.
import { looksLikeJwt } from "../admission.ts";
import type { KubeApiClient } from "./kube_status.ts";

/** The audience ztunnels request for their projected token. */
export const NODE_TOKEN_AUDIENCE = "ambit";
const NODE_NAME_EXTRA = "authentication.kubernetes.io/node-name";

/** The node a token vouches for, or undefined when the API server (or our rules) refuse it. */
export async function reviewNodeToken(client: KubeApiClient, token: string, serviceAccounts: readonly string[]): Promise<{ node: string; who: string } | undefined> {
  // Only what could be a ServiceAccount token (a JWT) goes to the API server: the join endpoint is open to
  // anyone, and should not turn every junk bearer into a TokenReview.
  if (!looksLikeJwt(token)) return undefined;
  const res = await client.request("POST", "/apis/authentication.k8s.io/v1/tokenreviews", {
    apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec: { token, audiences: [NODE_TOKEN_AUDIENCE] },
  });
  const status = res.status === 201 || res.status === 200 ? res.body?.status : undefined;
  if (!status?.authenticated || !(status.audiences ?? []).includes(NODE_TOKEN_AUDIENCE)) return undefined;
  const username = String(status.user?.username ?? "");
  const allowed = serviceAccounts.some((sa) => username === `system:serviceaccount:${sa.replace("/", ":")}`);
  const node = status.user?.extra?.[NODE_NAME_EXTRA]?.[0];
  return allowed && typeof node === "string" && node ? { node, who: username } : undefined;
}
