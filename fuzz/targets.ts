/**
 * Every parser that reads bytes from the network or a file, as a fuzz target,
 * with seeds taken from the inputs the bad-input tests already use (see each
 * target's `seedsFrom`). A target fails only on an error its parser is not
 * designed to throw; typed refusals (ConnectionError, HpackError, ConfigError,
 * a `refuse`/`invalid` result) are the parser doing its job.
 *
 * @module
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { ConfigError } from "../config/errors.ts";
import { parseConfig } from "../config/intake.ts";
import { DataPlane } from "../controlplane/dataplane.ts";
import { serviceGraph } from "../controlplane/graph/service_graph.ts";
import { decodeSettingsFrame } from "../hbone/h2/settings.ts";
import { readGoaway, readPing, readRstStream, readSettingsAck, readWindowUpdate } from "../hbone/h2/control_frames.ts";
import {
  CONNECTION_PREFACE, ConnectionError, concatBytes, DEFAULT_MAX_FRAME_SIZE, encodeFrame, encodeGoaway, encodeRstStream, encodeSettings,
  encodeWindowUpdate, Flag, FrameReader, FrameType, unpad,
} from "../hbone/h2/frames.ts";
import { HeaderBlockReader } from "../hbone/h2/header_block.ts";
import { HpackDecoder, HpackEncoder, HpackError } from "../hbone/h2/hpack.ts";
import { parsePrometheusText } from "../telemetry/prometheus_text.ts";
import { authorizationSchema, checkResource, serviceSchema, trustBundleSchema, workloadSchema } from "../xds/resource_schemas.ts";
import { boundedBaggage, boundedTracestate, parseTraceparent } from "../telemetry/tracing/trace_context.ts";
import { parseProxyV1 } from "../ztunnel/proxy_protocol.ts";
import { parseGreeting, parseRequest } from "../ztunnel/socks5_protocol.ts";
import type { FuzzTarget } from "./engine.ts";

const root = path.resolve(import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname), "..");
const text = (s: string) => new TextEncoder().encode(s);
const hex = (h: string) => Uint8Array.from(h.match(/../g) ?? [], (b) => parseInt(b, 16));
const u16 = (n: number) => [n >> 8, n & 0xff];

/** SOCKS5 greeting then CONNECT request (ztunnel/socks5_protocol.ts), as the capture port reads them. */
export const socks5Target: FuzzTarget = {
  name: "socks5",
  seedsFrom: "tests/ztunnel_socks_bad_input_test.ts, ztunnel/socks5_protocol_test.ts",
  seeds: [
    Uint8Array.of(5, 1, 0, 5, 1, 0, 1, 127, 0, 0, 1, ...u16(8080)),
    Uint8Array.of(5, 1, 0, 5, 1, 0, 3, 11, ...text("example.com"), ...u16(443)),
    Uint8Array.of(5, 1, 0, 5, 1, 0, 4, ...new Array(15).fill(0), 1, ...u16(80)),
    Uint8Array.of(5), Uint8Array.of(5, 3, 0), Uint8Array.of(4, 1, ...u16(9000), 127, 0, 0, 1, 0), Uint8Array.of(5, 0), Uint8Array.of(5, 1, 2),
    Uint8Array.of(5, 255, ...Array.from({ length: 255 }, (_, i) => i + 1)),
    Uint8Array.of(5, 1, 0, 5, 1, 0, 1, 127, 0), Uint8Array.of(5, 1, 0, 5, 2, 0, 1, 127, 0, 0, 1, 0, 80), Uint8Array.of(5, 1, 0, 5, 1, 0, 3, 0, 0, 80),
    Uint8Array.of(5, 1, 0, 5, 1, 0, 9, 1, 2, 3, 4, 0, 80), Uint8Array.of(0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03),
  ],
  maxLength: 600,
  run(input) {
    const greeting = parseGreeting(input);
    if (greeting.kind === "ok") parseRequest(input.subarray(greeting.consumed));
    parseRequest(input);
  },
  expected: () => false,
};

/** The PROXY protocol v1 header (ztunnel/proxy_protocol.ts) on the plaintext port. */
export const proxyProtocolTarget: FuzzTarget = {
  name: "proxy-protocol",
  seedsFrom: "ztunnel/proxy_protocol_test.ts",
  seeds: [
    "PROXY TCP4 10.0.0.1 10.0.0.2 5555 8080\r\nGET /", "PROXY TCP6 ::1 ::2 1 2\r\n", "PROXY UNKNOWN\r\n", "PRO", "PROXY TCP4 10.0.0.1",
    "GET / HTTP/1.1\r\n", "", "\x16\x03\x01", "PROXY TCP4 ::1 ::2 1 2\r\n", "PROXY TCP4 10.0.0.1 10.0.0.2 1 99999\r\n", "PROXY " + "x".repeat(120),
  ].map(text),
  maxLength: 300,
  run(input) {
    parseProxyV1(input);
  },
  expected: () => false,
};

/** W3C trace headers as the waypoint and ztunnel read them from any caller: never throw, and what is kept stays well-formed. */
export const traceHeadersTarget: FuzzTarget = {
  name: "trace-headers",
  seedsFrom: "telemetry/tracing/trace_context_test.ts",
  seeds: [
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",
    "00-00000000000000000000000000000000-00f067aa0ba902b7-01", "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE", "tenant@vendor=x",
    "userId=alice,isProduction=false", "a=1\r\nx: 1", "",
  ].map(text),
  maxLength: 600,
  run(input) {
    const v = new TextDecoder().decode(input);
    const tp = parseTraceparent(v);
    if (tp && !/^[0-9a-f]{32}$/.test(tp.traceId)) throw new Error(`bad trace id kept: ${tp.traceId}`);
    const ts = boundedTracestate(v);
    const bg = boundedBaggage(v);
    // Whatever is passed on must be a safe header value.
    for (const kept of [ts, bg]) if (kept !== undefined && /[\r\n\x00]/.test(kept)) throw new Error("a control character was passed on");
  },
  expected: () => false,
};

function h2Seeds(): Uint8Array[] {
  const headers = new HpackEncoder().encode([[":method", "CONNECT"], [":authority", "10.0.0.2:8080"], ["baggage", "k=v"]]);
  const settings = encodeSettings([[1, 4096], [3, 100], [4, 65535], [5, 16384]]);
  const padded = encodeFrame(FrameType.DATA, Flag.PADDED | Flag.END_STREAM, 1, Uint8Array.of(3, 1, 2, 3, 0, 0, 0));
  return [
    concatBytes([CONNECTION_PREFACE, settings, encodeFrame(FrameType.HEADERS, Flag.END_HEADERS, 1, headers), encodeFrame(FrameType.DATA, 0, 1, text("hello"))]),
    concatBytes([encodeFrame(FrameType.HEADERS, 0, 3, headers.subarray(0, 4)), encodeFrame(FrameType.CONTINUATION, Flag.END_HEADERS, 3, headers.subarray(4))]),
    concatBytes([settings, encodeFrame(FrameType.SETTINGS, Flag.ACK, 0), encodeWindowUpdate(0, 1 << 20), encodeWindowUpdate(1, 0), encodeRstStream(1, 8), encodeGoaway(7, 0, "bye")]),
    concatBytes([encodeFrame(FrameType.PING, 0, 0, new Uint8Array(8)), padded, encodeFrame(FrameType.HEADERS, Flag.PADDED | Flag.PRIORITY | Flag.END_HEADERS, 5, concatBytes([Uint8Array.of(2, 0, 0, 0, 0, 16), headers, Uint8Array.of(0, 0)]))]),
    hex("00000104000000000000"), hex("ffffff00000000000000"),
  ];
}

/** HTTP/2 frames as hbone/h2 reads them: framing, padding, control frames, SETTINGS, HEADERS+CONTINUATION through HPACK. */
export const h2FramesTarget: FuzzTarget = {
  name: "h2-frames",
  seedsFrom: "hbone/h2/session_test.ts, control_frames_test.ts, header_block_test.ts (frames rebuilt with the encoders), tests/hbone_rejections_test.ts",
  seeds: h2Seeds(),
  maxLength: 8192,
  run(input) {
    const reader = new FrameReader(DEFAULT_MAX_FRAME_SIZE);
    const blocks = new HeaderBlockReader(64 * 1024);
    let settings = { maxConcurrentStreams: 100, initialWindowSize: 65535, maxFrameSize: 16384 };
    const at = input[0] ? 1 + (input[0] % 29) : input.length;
    const body = input.subarray(0, 24).every((b, i) => b === CONNECTION_PREFACE[i]) ? input.subarray(24) : input;
    // Fed in two pieces, so frame headers and payloads also cross chunk boundaries.
    for (const chunk of [body.subarray(0, at), body.subarray(at)]) {
      reader.push(chunk, (frame) => {
        switch (frame.type) {
          case FrameType.SETTINGS:
            if (!readSettingsAck(frame)) settings = decodeSettingsFrame(frame.payload, settings);
            break;
          case FrameType.HEADERS:
            blocks.headers(frame);
            break;
          case FrameType.CONTINUATION:
            blocks.continuation(frame);
            break;
          case FrameType.RST_STREAM:
            readRstStream(frame);
            break;
          case FrameType.PING:
            readPing(frame);
            break;
          case FrameType.GOAWAY:
            readGoaway(frame);
            break;
          case FrameType.WINDOW_UPDATE:
            readWindowUpdate(frame);
            break;
          case FrameType.DATA:
            unpad(frame);
            break;
        }
      }, () => {});
    }
  },
  expected: (e) => e instanceof ConnectionError || e instanceof HpackError,
};

/** HPACK header blocks (hbone/h2/hpack.ts), several blocks through one decoder so the dynamic table carries over. */
export const hpackTarget: FuzzTarget = {
  name: "hpack",
  seedsFrom: "hbone/h2/hpack_test.ts (RFC 7541 Appendix C blocks), encoder output",
  seeds: [
    hex("828684410f7777772e6578616d706c652e636f6d"), hex("828684be58086e6f2d6361636865"),
    hex("828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565"), hex("828684418cf1e3c2e5f23a6ba0ab90f4ff"),
    hex("3fe11f"), hex("20"), hex("ff80808080808080808001"), hex("0085f2b24a87ff"),
    new HpackEncoder().encode([[":status", "200"], ["content-type", "application/x-ndjson"], ["x-a", "b".repeat(300)]]),
  ],
  maxLength: 4096,
  run(input) {
    const decoder = new HpackDecoder(4096, 16 * 1024);
    const cut = input.length > 0 ? input[input.length - 1]! % (input.length + 1) : 0;
    decoder.decode(input.subarray(0, cut));
    decoder.decode(input.subarray(cut));
  },
  expected: (e) => e instanceof HpackError,
};

function xdsSeeds(): Uint8Array[] {
  const { objects } = parseConfig(fs.readFileSync(path.join(root, "samples", "demo.yaml"), "utf8"), "demo.yaml");
  const dp = new DataPlane({ trustDomain: "cluster.local", clusterDomain: "cluster.local", clusterId: "Kubernetes", rootNamespace: "istio-system", vipRange: "240.240.0.0/16", trustBundle: () => ["-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"], revokedSerials: () => ["a1b2"] });
  dp.update(objects);
  return [...dp.desired().values()].flatMap((m) => [...m.values()]).map((r) => text(JSON.stringify(r.resource)));
}

const XDS_SCHEMAS = [workloadSchema, serviceSchema, authorizationSchema, trustBundleSchema];

/** One xDS resource as a ztunnel receives it: JSON, then checked against every resource schema (xds/resource_schemas.ts). */
export const xdsResourcesTarget: FuzzTarget = {
  name: "xds-resources",
  seedsFrom: "the resources the controlplane makes of samples/demo.yaml; xds/xds_test.ts NACK cases",
  seeds: [...xdsSeeds(), text('{"uid":"w1","addresses":["not-an-ip"]}'), text("{}"), text("[]"), text("null")],
  maxLength: 8192,
  run(input) {
    const value = JSON.parse(new TextDecoder().decode(input)) as unknown;
    for (const schema of XDS_SCHEMAS) checkResource(schema as never, value);
  },
  expected: (e) => e instanceof SyntaxError,
};

function yamlSeeds(): Uint8Array[] {
  const dirs = ["invalid_config", "invalid_rules", "valid_config"].map((d) => path.join(root, "tests", "fixtures", d));
  const files = dirs.flatMap((d) => fs.readdirSync(d).map((f) => path.join(d, f))).concat(path.join(root, "samples", "demo.yaml"));
  return files.map((f) => fs.readFileSync(f)).filter((b) => b.length <= 16 * 1024).map((b) => new Uint8Array(b));
}

/** The YAML/JSON intake (config/intake.ts): what `ambit apply`, the controlplane API and --config-dir read. */
export const yamlIntakeTarget: FuzzTarget = {
  name: "yaml-intake",
  seedsFrom: "tests/fixtures/invalid_config, invalid_rules, valid_config, samples/demo.yaml",
  seeds: yamlSeeds(),
  maxLength: 8 * 1024,
  run(input) {
    parseConfig(new TextDecoder().decode(input), "fuzz.yaml");
  },
  expected: (e) => e instanceof ConfigError,
};

/** What the controlplane's service graph reads from each proxy's /metrics, then the graph built from it. */
export const prometheusTextTarget: FuzzTarget = {
  name: "prometheus-text",
  seedsFrom: "telemetry/prometheus_text_test.ts, controlplane/graph/service_graph_test.ts",
  seeds: [
    '# TYPE istio_requests_total counter\nistio_requests_total{reporter="waypoint",source_principal="spiffe://cluster.local/ns/demo/sa/sleep",destination_service="hello.demo.svc.cluster.local",destination_workload="hello-v1",destination_workload_namespace="demo",response_code="503",response_flags="RBAC"} 12\n',
    'istio_request_duration_milliseconds_bucket{reporter="waypoint",destination_workload="a",destination_workload_namespace="b",le="+Inf"} 3\nistio_request_duration_milliseconds_bucket{le="0.5"} NaN\n',
    'istio_tcp_sent_bytes_total{reporter="destination",source_workload="s",source_workload_namespace="n",destination_service="x\\"y\\n"} 1e3 1700000000\n',
    'ambit_authorization_decisions_total{decision="deny",destination_workload="w",destination_workload_namespace="n"} +Inf\n',
    'm{a="1",} 2\nm{,} 1\n{a="b"} 1\n',
  ].map(text),
  maxLength: 4 * 1024,
  run(input) {
    serviceGraph(parsePrometheusText(new TextDecoder().decode(input)), { waypointWorkloads: new Set(["n/s"]), waypointServices: new Set(["hello.demo.svc.cluster.local"]) });
  },
  expected: () => false,
};

/** Every target, in the order `npm run fuzz` runs them. */
export const TARGETS: readonly FuzzTarget[] = [socks5Target, proxyProtocolTarget, traceHeadersTarget, h2FramesTarget, hpackTarget, xdsResourcesTarget, yamlIntakeTarget, prometheusTextTarget];
