// Ends an upstream tunnel instead of resetting it when its HTTP client is done
// with it. On Deno each upstream HTTP/1.1 request has a tunnel of its own (see
// upstream.ts), and node:http destroys the socket after the response: every
// request would end in a RST_STREAM. An nghttp2 peer (a Deno ztunnel) counts
// those as a rapid-reset attack (CVE-2023-44487) and, after about a thousand,
// sends GOAWAY(INTERNAL_ERROR) to the whole connection — which Deno's
// node:http2 client then crashes on (denoland/deno#36788). Rust ztunnel's h2
// has the same kind of limit. A tunnel whose response is complete is therefore
// half-closed (END_STREAM) and left to close when the endpoint's side ends;
// only a tunnel destroyed with an error, or one the endpoint has not ended
// within `graceMs`, is reset.
//
// Once node:http has let go of a tunnel (here, or between its request's end
// and its destroy) it no longer listens for the tunnel's errors; a reset
// arriving then must not be an 'error' event with no listener, which would end
// the waypoint. The response it belonged to is complete, so it is dropped.
import type { Duplex } from "node:stream";

/** Makes `destroy()` without an error end `tunnel` gracefully. */
export function endInsteadOfReset(tunnel: Duplex, graceMs = 10_000): Duplex {
  tunnel.on("error", () => {});
  const destroy = tunnel.destroy.bind(tunnel);
  let ending = false;
  tunnel.destroy = (error?: Error) => {
    if (error || ending || tunnel.destroyed || (tunnel.writableEnded && tunnel.readableEnded)) return destroy(error);
    ending = true;
    const timer = setTimeout(() => destroy(), graceMs);
    (timer as { unref?: () => void }).unref?.();
    tunnel.once("close", () => clearTimeout(timer));
    // Read whatever is left so the endpoint's END_STREAM is seen, then the stream closes by itself.
    tunnel.resume();
    if (!tunnel.writableEnded) tunnel.end();
    return tunnel;
  };
  return tunnel;
}
