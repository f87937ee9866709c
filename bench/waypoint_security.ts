// The cost of L7 security per request at the waypoint: the same requests through
// one real waypoint to two Services, one bare (default route) and one with a
// RequestAuthentication (RS256, inline JWKS) and an ALLOW policy on the request
// principal, path and method — every request verifies a JWT and is authorized.
// Rounds alternate between the two so machine noise lands on both; the figure is
// the ratio of mean request time, secured / bare (target ≤ 1.3). Run:
// `bun bench/waypoint_security.ts` (or `npm run bench -- waypoint_security`).
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { startWaypointMesh } from "../testing/waypoint_mesh.ts";
import { ratio } from "./_measure.ts";

const ROUNDS = 10;
const PER_ROUND = 300;
const CONCURRENCY = 4;

/** Runs the benchmark and returns its section of bench/RESULTS.md. */
export async function bench(): Promise<string> {
  const { privateKey, publicKey } = await generateKeyPair("RS256");
  const jwk = { ...(await exportJWK(publicKey)), kid: "bench", alg: "RS256" };
  const iss = "https://issuer.bench";
  const token = await new SignJWT({ sub: "bench-user" }).setProtectedHeader({ alg: "RS256", kid: "bench" }).setIssuer(iss).setExpirationTime("2h").sign(privateKey);
  const mesh = await startWaypointMesh([
    { name: "bare", vip: "10.96.20.1", backends: ["bare-v1"] },
    { name: "secured", vip: "10.96.20.2", backends: ["secured-v1"] },
  ], () => [], {
    extra: (keys) => ({
      l7Policies: [{
        service: keys.secured,
        requestAuthentications: [{ name: "jwt", namespace: "default", jwtRules: [{ issuer: iss, jwks: JSON.stringify({ keys: [jwk] }) }] }],
        authorizations: [{ name: "require-jwt", namespace: "default", action: "ALLOW", rules: [{ from: [{ source: { requestPrincipals: ["*"] } }], to: [{ operation: { paths: ["/api/*"], methods: ["GET"] } }] }] }],
      }],
    }),
  });
  try {
    // A fresh token per request for the uncached row: more tokens than the cache holds, each used once.
    const fresh: string[] = [];
    for (let i = 0; i < (ROUNDS + 1) * PER_ROUND; i++) {
      fresh.push(await new SignJWT({ sub: `user-${i}` }).setProtectedHeader({ alg: "RS256", kid: "bench" }).setIssuer(iss).setExpirationTime("2h").sign(privateKey));
    }
    const run = async (service: string, headers: Record<string, string>, tokens?: string[]) => {
      let left = PER_ROUND;
      const start = performance.now();
      await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
        while (left-- > 0) {
          const h = tokens ? { authorization: `Bearer ${tokens.pop()}` } : headers;
          const r = await mesh.request(service, { path: "/api/items", headers: h, keepAlive: true });
          if (r.status !== 200) throw new Error(`${service}: ${r.status} ${r.body}`);
        }
      }));
      return (performance.now() - start) / PER_ROUND;
    };
    await run("bare", {});
    await run("secured", { authorization: `Bearer ${token}` });
    await run("secured", {}, fresh);
    const bare: number[] = [];
    const secured: number[] = [];
    const uncached: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      bare.push(await run("bare", {}));
      secured.push(await run("secured", { authorization: `Bearer ${token}` }));
      uncached.push(await run("secured", {}, fresh));
    }
    // Medians over rounds: a round that another process slowed does not move them.
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const mean = median;
    return [
      "## Waypoint L7 security per request",
      "",
      `${ROUNDS} alternating rounds of ${PER_ROUND} HTTP/1.1 requests (${CONCURRENCY} concurrent, kept-alive tunnels) through one waypoint;`,
      "secured = JWT verification (RS256, inline JWKS) + an ALLOW on request principal, path and method. The same token",
      "on every request, as a client sends it: after the first, a verified-token cache hit (like Envoy's jwt_cache_config).",
      `Best rounds: bare ${(Math.min(...bare) * 1000).toFixed(0)} µs, secured ${(Math.min(...secured) * 1000).toFixed(0)} µs (${ratio(Math.min(...secured), Math.min(...bare))}).`,
      "",
      "| route | time per request (median round) | vs bare |",
      "|---|---|---|",
      `| bare (default route) | ${(mean(bare) * 1000).toFixed(0)} µs | 1.00× |`,
      `| JWT + authorization (same token: cache hit) | ${(mean(secured) * 1000).toFixed(0)} µs | ${ratio(mean(secured), mean(bare))} |`,
      `| JWT + authorization (a new token every request: RS256 checked each time) | ${(mean(uncached) * 1000).toFixed(0)} µs | ${ratio(mean(uncached), mean(bare))} |`,
      "",
    ].join("\n");
  } finally {
    await mesh.stop();
  }
}

if (import.meta.main) console.log(await bench());
