#!/usr/bin/python3
"""Minimal HBONE test client: HTTP/2 CONNECT over mutual TLS 1.3 using h2 4.1.

Sends --bytes bytes of the pattern byte(i % 251), half-closes (END_STREAM),
reads the response until the server ends its stream, and prints one JSON line
with sizes and SHA-256 digests (same format as the Go hbone_client).
Exit codes: 0 status 200, 1 connection/TLS error, 2 other status, 3 SAN mismatch.
"""
import argparse
import hashlib
import json
import select
import socket
import ssl
import sys

import h2.config
import h2.connection
import h2.events
import h2.settings

# Large receive windows so the echo is not throttled by 64 KiB defaults.
RECV_WINDOW = 16 * 1024 * 1024


def fail(msg, code=1):
    print(json.dumps({"error": msg}, separators=(",", ":")), flush=True)
    sys.exit(code)


def pattern(n):
    period = bytes(range(251))
    return memoryview((period * (n // 251 + 1))[:n])


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--addr", required=True, help="HBONE server host:port")
    p.add_argument("--authority", required=True, help="CONNECT target ip:port")
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--ca", required=True)
    p.add_argument("--expect-san", required=True, help="required server URI SAN")
    p.add_argument("--bytes", type=int, default=0)
    p.add_argument("--timeout", type=float, default=60.0, help="per socket operation, seconds")
    a = p.parse_args()

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(a.cert, a.key)
    ctx.load_verify_locations(a.ca)
    # SPIFFE certs have no DNS/IP SANs: verify the chain, then the URI SAN below.
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.set_alpn_protocols(["h2"])

    host, port = a.addr.rsplit(":", 1)
    try:
        raw = socket.create_connection((host.strip("[]"), int(port)), timeout=a.timeout)
        # Without NODELAY, Nagle + delayed ACK stalls small frames (20 MB took 10 s).
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock = ctx.wrap_socket(raw, server_hostname=None)  # None = no SNI
    except (OSError, ssl.SSLError) as e:
        fail(f"connect/TLS: {e}")

    if sock.selected_alpn_protocol() != "h2":
        fail(f"ALPN negotiated {sock.selected_alpn_protocol()!r}, want 'h2'")
    sans = sock.getpeercert().get("subjectAltName", ())
    peer_san = next((v for k, v in sans if k == "URI"), "")
    if ("URI", a.expect_san) not in sans:
        fail(f"server URI SAN mismatch: got {peer_san!r}, want {a.expect_san!r}", 3)

    # h2 4.1 insists on :path for every request, which is wrong for plain CONNECT.
    conn = h2.connection.H2Connection(
        h2.config.H2Configuration(client_side=True, validate_outbound_headers=False))
    conn.initiate_connection()
    conn.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: RECV_WINDOW})
    conn.increment_flow_control_window(RECV_WINDOW - 65535)
    sid = conn.get_next_available_stream_id()
    conn.send_headers(sid, [(":method", "CONNECT"), (":authority", a.authority)])

    payload = pattern(a.bytes)
    sent_hash, recv_hash = hashlib.sha256(), hashlib.sha256()
    sent = received = 0
    status = None
    half_closed = ended = False

    try:
        while not ended:
            # Send only what the peer's flow-control windows allow.
            while not half_closed and sent < len(payload):
                n = min(conn.local_flow_control_window(sid), conn.max_outbound_frame_size,
                        len(payload) - sent)
                if n <= 0:
                    break
                conn.send_data(sid, payload[sent:sent + n])
                sent_hash.update(payload[sent:sent + n])
                sent += n
            if not half_closed and sent == len(payload):
                conn.end_stream(sid)
                half_closed = True
            out = conn.data_to_send()
            if out:
                sock.sendall(out)

            # Block for input only when there is nothing we may send right now.
            can_send = not half_closed and conn.local_flow_control_window(sid) > 0
            if can_send and not sock.pending() and not select.select([sock], [], [], 0)[0]:
                continue
            data = sock.recv(1 << 20)
            if not data:
                fail("connection closed before the response stream ended")
            for ev in conn.receive_data(data):
                if isinstance(ev, h2.events.ResponseReceived) and ev.stream_id == sid:
                    status = int(dict(ev.headers)[b":status"])
                    if status != 200:
                        half_closed = True  # no tunnel: stop sending
                elif isinstance(ev, h2.events.DataReceived) and ev.stream_id == sid:
                    recv_hash.update(ev.data)
                    received += len(ev.data)
                    # Returning window credit keeps the server's echo flowing.
                    conn.acknowledge_received_data(ev.flow_controlled_length, sid)
                elif isinstance(ev, h2.events.StreamEnded) and ev.stream_id == sid:
                    ended = True
                elif isinstance(ev, h2.events.StreamReset) and ev.stream_id == sid:
                    if status is None or status == 200:
                        fail(f"stream reset by server (error code {ev.error_code})")
                    ended = True
                elif isinstance(ev, h2.events.ConnectionTerminated):
                    fail(f"GOAWAY from server (error code {ev.error_code})")
            out = conn.data_to_send()
            if out:
                sock.sendall(out)
    except (OSError, ssl.SSLError) as e:
        fail(f"I/O: {e}")

    print(json.dumps({
        "status": status, "peerSan": peer_san,
        "sentBytes": sent, "sentSha256": sent_hash.hexdigest(),
        "receivedBytes": received, "receivedSha256": recv_hash.hexdigest(),
    }, separators=(",", ":")), flush=True)
    try:
        conn.close_connection()
        sock.sendall(conn.data_to_send())
        sock.close()
    except OSError:
        pass
    sys.exit(0 if status == 200 else 2)


if __name__ == "__main__":
    main()
