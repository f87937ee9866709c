import { expect, test } from "bun:test";
import type { L7RateLimit } from "../../xds/l7_policy_resources.ts";
import { TokenBuckets } from "../token_bucket.ts";
import { rateLimit } from "./rate_limit.ts";
import { runFilter } from "./_security_fixture.ts";

const limit = (rules: L7RateLimit["rules"]): L7RateLimit => ({ name: "rl", namespace: "default", rules });

test("over the limit: 429 local_rate_limited with x-ratelimit-*; under it the headers go on the response", async () => {
  const filter = rateLimit({ buckets: new TokenBuckets() });
  const policy = { rateLimits: [limit([{ key: { type: "None" }, requests: 1, unitSeconds: 60 }])] };
  const first = await runFilter(filter, policy);
  expect(first.passed).toBe(true);
  expect(first.ctx.responseHeaderModifiers[0]?.set).toContainEqual({ name: "x-ratelimit-remaining", value: "0" });
  const second = await runFilter(filter, policy);
  expect([second.passed, second.status, second.body.trim()]).toEqual([false, 429, "local_rate_limited"]);
  expect(second.headers).toMatchObject({ "x-ratelimit-limit": "1, 1;w=60", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "60" });
});

test("keyed by header: a request without it is not counted by that rule", async () => {
  const filter = rateLimit({ buckets: new TokenBuckets() });
  const policy = { rateLimits: [limit([{ key: { type: "Header", name: "x-user" }, requests: 1, unitSeconds: 60 }])] };
  expect((await runFilter(filter, policy, { headers: { "x-user": "a" } })).passed).toBe(true);
  expect((await runFilter(filter, policy, { headers: { "x-user": "a" } })).passed).toBe(false);
  expect((await runFilter(filter, policy, { headers: { "x-user": "b" } })).passed).toBe(true);
  expect((await runFilter(filter, policy)).passed).toBe(true);
  expect((await runFilter(filter, policy)).passed).toBe(true);
});

test("every rule must allow; request principal keys skip unauthenticated requests", async () => {
  const filter = rateLimit({ buckets: new TokenBuckets() });
  const policy = { rateLimits: [limit([{ key: { type: "RequestPrincipal" }, requests: 1, unitSeconds: 60 }, { key: { type: "SourceIdentity" }, requests: 2, unitSeconds: 60 }])] };
  expect((await runFilter(filter, policy)).passed).toBe(true);
  expect((await runFilter(filter, policy)).passed).toBe(true);
  expect((await runFilter(filter, policy)).status).toBe(429);
});
