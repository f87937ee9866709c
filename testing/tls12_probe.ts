/**
 * Offers an HBONE port TLS 1.2 only (with a mesh client certificate and ALPN
 * h2) and reports what the server did: refuse the handshake with an alert, or
 * complete it and then send HTTP/2 bytes (a server that accepted) or close
 * without a byte (a server that checks the version after the handshake, as the
 * lean stack must: Bun cannot bound the version in the handshake itself).
 *
 * @example
 * ```ts
 * const r = await probeTls12({ address, port: 15008 }, files);
 * r.refused; // true when the server spoke no HTTP/2 over TLS 1.2
 * ```
 * @module
 */
import * as fs from "node:fs";
import * as tls from "node:tls";
import type { CertFiles } from "./pki.ts";

/** What a TLS 1.2 client saw. */
export interface Tls12ProbeResult {
  /** The handshake failed: the error's code and message (a protocol_version alert, typically). */
  readonly handshakeError?: string;
  /** The version negotiated, when the handshake completed. */
  readonly version?: string;
  /** Bytes of application data the server sent after the handshake. */
  readonly received: number;
  /** True when the server let no HTTP/2 through: the handshake failed, or it closed having sent nothing. */
  readonly refused: boolean;
}

/** Connects with TLS 1.2 only and waits (up to `timeoutMs`) for the server's first bytes or close. */
export function probeTls12(target: { address: string; port: number }, files: CertFiles, timeoutMs = 5_000): Promise<Tls12ProbeResult> {
  return new Promise((resolve) => {
    let version: string | undefined;
    let received = 0;
    let settled = false;
    const socket = tls.connect({
      host: target.address,
      port: target.port,
      minVersion: "TLSv1.2",
      maxVersion: "TLSv1.2",
      ALPNProtocols: ["h2"],
      cert: fs.readFileSync(files.cert),
      key: fs.readFileSync(files.key),
      ca: fs.readFileSync(files.ca),
      rejectUnauthorized: false,
    });
    const done = (r: Omit<Tls12ProbeResult, "refused">) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ ...r, refused: r.handshakeError !== undefined || r.received === 0 });
    };
    // A server that accepted sends its SETTINGS frame at once; waiting longer would prove nothing more.
    const timer = setTimeout(() => done({ version, received }), timeoutMs);
    socket.once("secureConnect", () => {
      version = socket.getProtocol() ?? undefined;
      // The client preface, so an h2 server that accepted has every reason to answer.
      socket.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00");
    });
    socket.on("data", (d: Buffer) => {
      received += d.length;
      done({ version, received });
    });
    socket.once("error", (e: NodeJS.ErrnoException) => done(version ? { version, received } : { handshakeError: `${e.code ?? ""} ${e.message}`.trim(), received }));
    socket.once("close", () => done(version ? { version, received } : { handshakeError: "closed during the handshake", received }));
  });
}
