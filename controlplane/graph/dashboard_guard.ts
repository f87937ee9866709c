// What keeps the service-graph listener safe from the browser it is made for.
// It has no authentication (loopback only, like the dev listener), so the
// threat is another web page in the same browser, or a DNS-rebinding one:
// - the Host must be an IP literal or `localhost` (a rebinding page sends its own name);
// - only GET and HEAD exist: nothing here changes state;
// - a request from another site is refused, except a top-level navigation to the
//   page itself (a link from a wiki), which can read nothing cross-site;
// - every answer forbids framing, sniffing, referrers and caching, and the page's
//   Content-Security-Policy allows only its own script and style: no inline code
//   runs, so even a name that got into the markup could not execute.
import type { MiddlewareHandler } from "hono";
import { isAddressHost } from "../../telemetry/admin_guard.ts";

/** The Content-Security-Policy of every answer. */
export const DASHBOARD_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/** The guard, as Hono middleware. */
export function dashboardGuard(): MiddlewareHandler {
  return async (c, next) => {
    const host = c.req.header("host") ?? new URL(c.req.url).host;
    if (!isAddressHost(host)) {
      return c.text(`Host ${JSON.stringify(host)} is not an IP address or localhost\n`, 403);
    }
    if (c.req.method !== "GET" && c.req.method !== "HEAD") return c.text("only GET and HEAD\n", 405, { allow: "GET, HEAD" });
    const site = c.req.header("sec-fetch-site");
    const navigation = c.req.header("sec-fetch-mode") === "navigate" && c.req.path === "/";
    if (site !== undefined && site !== "same-origin" && site !== "none" && !navigation) {
      return c.text(`refused a ${site} request\n`, 403);
    }
    await next();
    const h = c.res.headers;
    h.set("content-security-policy", DASHBOARD_CSP);
    h.set("x-frame-options", "DENY");
    h.set("x-content-type-options", "nosniff");
    h.set("referrer-policy", "no-referrer");
    h.set("cache-control", "no-store");
    h.set("cross-origin-resource-policy", "same-origin");
    h.set("cross-origin-opener-policy", "same-origin");
  };
}
