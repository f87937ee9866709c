// Bun: SO_ORIGINAL_DST through the accepted socket's descriptor and bun:ffi.
// Loaded only on Bun (runtime/original_destination.ts imports it dynamically).
import type * as net from "node:net";
import { dlopen, FFIType, ptr } from "bun:ffi";
import type { Endpoint } from "./conntrack.ts";

const SOL_IP = 0;
const SOL_IPV6 = 41;
/** SO_ORIGINAL_DST and IP6T_SO_ORIGINAL_DST share the number. */
const SO_ORIGINAL_DST = 80;

const libc = dlopen("libc.so.6", {
  getsockopt: { args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
});

/** The descriptor Bun keeps on a node:net socket (not a public API: checked on every call). */
function descriptorOf(socket: net.Socket): number | undefined {
  const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  return typeof fd === "number" && fd >= 0 ? fd : undefined;
}

/** Reads the pre-NAT destination of an accepted socket; undefined when it was not translated. */
export function originalDestinationBun(socket: net.Socket): Endpoint | undefined {
  const fd = descriptorOf(socket);
  if (fd === undefined) return undefined;
  const buf = new Uint8Array(28);
  const len = new Uint32Array([buf.length]);
  if (libc.symbols.getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, ptr(buf), ptr(len)) === 0) {
    return { address: `${buf[4]}.${buf[5]}.${buf[6]}.${buf[7]}`, port: (buf[2]! << 8) | buf[3]! };
  }
  len[0] = buf.length;
  if (libc.symbols.getsockopt(fd, SOL_IPV6, SO_ORIGINAL_DST, ptr(buf), ptr(len)) === 0) {
    const words = [];
    for (let i = 8; i < 24; i += 2) words.push(((buf[i]! << 8) | buf[i + 1]!).toString(16));
    return { address: words.join(":").replace(/(^|:)0(:0)+(:|$)/, "::"), port: (buf[2]! << 8) | buf[3]! };
  }
  return undefined;
}
