// What keeps browsers out of a proxy's admin API (ztunnel's and the waypoint's),
// which has no authentication of its own and listens on loopback, where any web
// page the user opens can reach it (docs/security.md H14).
import type { MiddlewareHandler } from "hono";

/** The header a state-changing admin request must carry: no browser sends it cross-site without a CORS preflight, which this API never grants. */
export const ADMIN_REQUEST_HEADER = "x-ambit-admin";

/** Is `host` (a Host header) an IP literal or `localhost`, with an optional port? A DNS-rebinding page sends its own name. */
export function isAddressHost(host: string): boolean {
  return /^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:.]+\]|localhost)(:\d+)?$/.test(host);
}

/**
 * Keeps browsers out of the admin API, which has no authentication of its own
 * and listens on loopback, where any web page the user opens can reach it.
 * - The Host must be an IP literal or `localhost`: a DNS-rebinding page sends
 *   its own name.
 * - A state-changing request (anything but GET/HEAD) must not come from
 *   another site (`Sec-Fetch-Site`, `Origin`) and must carry
 *   {@link ADMIN_REQUEST_HEADER}, which makes it a non-simple request: a
 *   cross-site form or `fetch` cannot send it without a preflight.
 */
export function browserGuard(): MiddlewareHandler {
  return async (c, next) => {
    const host = c.req.header("host") ?? new URL(c.req.url).host;
    if (!isAddressHost(host)) {
      return c.json({ error: `admin API: Host ${JSON.stringify(host)} is not an IP address or localhost` }, 403);
    }
    if (c.req.method === "GET" || c.req.method === "HEAD") return next();
    const site = c.req.header("sec-fetch-site");
    if (site !== undefined && site !== "same-origin" && site !== "none") {
      return c.json({ error: `admin API: refused a ${site} request from a browser` }, 403);
    }
    const origin = c.req.header("origin");
    if (origin !== undefined && origin !== `http://${host}`) {
      return c.json({ error: `admin API: refused a request from origin ${origin}` }, 403);
    }
    if (c.req.header(ADMIN_REQUEST_HEADER) === undefined) {
      return c.json({ error: `admin API: ${c.req.method} ${c.req.path} needs the header ${ADMIN_REQUEST_HEADER} (e.g. curl -X POST -H '${ADMIN_REQUEST_HEADER}: 1' …)` }, 403);
    }
    return next();
  };
}
