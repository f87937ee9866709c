// A real gRPC backend and client for waypoint tests (@grpc/grpc-js): service
// ambit.test.Echo with Echo (answers the message and the backend's name) and
// Fail (answers NOT_FOUND), so statuses and trailers cross the waypoint.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

const PROTO = `syntax = "proto3";
package ambit.test;
message EchoRequest { string message = 1; }
message EchoReply { string message = 1; string backend = 2; }
service Echo {
  rpc Echo (EchoRequest) returns (EchoReply);
  rpc Fail (EchoRequest) returns (EchoReply);
}
`;

/** The Echo service definition, loaded once. */
function echoService(): grpc.GrpcObject {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "ambit-grpc-")), "echo.proto");
  fs.writeFileSync(file, PROTO);
  return grpc.loadPackageDefinition(protoLoader.loadSync(file));
}

type EchoClient = grpc.Client & Record<string, (req: unknown, md: grpc.Metadata, cb: (e: grpc.ServiceError | null, r: { message: string; backend: string }) => void) => void>;

/** Starts a gRPC Echo backend at address:port (plaintext h2c). */
export async function startGrpcEcho(name: string, address: string, port: number): Promise<{ name: string; address: string; port: number; close(): Promise<void> }> {
  const pkg = echoService() as unknown as { ambit: { test: { Echo: grpc.ServiceClientConstructor } } };
  const server = new grpc.Server();
  server.addService(pkg.ambit.test.Echo.service, {
    Echo: (call: grpc.ServerUnaryCall<{ message: string }, unknown>, cb: grpc.sendUnaryData<unknown>) => cb(null, { message: call.request.message, backend: name }),
    Fail: (_call: unknown, cb: grpc.sendUnaryData<unknown>) => cb({ code: grpc.status.NOT_FOUND, details: "no such thing" }),
  });
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${address}:${port}`, grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p)))
  );
  return { name, address, port: bound, close: () => new Promise<void>((r) => server.tryShutdown(() => r())) };
}

/** A grpc-js client for `target` ("ip:port"), sending `authority` as :authority. */
export function grpcEchoClient(target: string, authority: string) {
  const pkg = echoService() as unknown as { ambit: { test: { Echo: grpc.ServiceClientConstructor } } };
  const client = new pkg.ambit.test.Echo(target, grpc.credentials.createInsecure(), { "grpc.default_authority": authority }) as unknown as EchoClient;
  const call = (method: "Echo" | "Fail", message: string, metadata: Record<string, string> = {}) =>
    new Promise<{ message: string; backend: string }>((resolve, reject) => {
      const md = new grpc.Metadata();
      for (const [k, v] of Object.entries(metadata)) md.set(k, v);
      client[method]!({ message }, md, (e, r) => (e ? reject(e) : resolve(r)));
    });
  return { echo: (m: string, md?: Record<string, string>) => call("Echo", m, md), fail: (m: string) => call("Fail", m), close: () => client.close() };
}
