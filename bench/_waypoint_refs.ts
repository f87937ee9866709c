// The HTTP reverse proxies bench/waypoint.ts compares the waypoint with:
// haproxy (HTTP mode) and nginx, each with one thread/worker as the waypoint
// runs its JavaScript on one thread, between the same client and server.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { startProcess, type TestProcess } from "../testing/processes.ts";
import { ensureDebianBinary } from "./_apt.ts";

/** A running reference proxy. */
export interface ReferenceProxy {
  readonly proc: TestProcess;
  stop(): Promise<void>;
}

/** haproxy in HTTP mode: h1 on `h1Port`, h2c (prior knowledge) on `h2Port`, to `server` over HTTP/1.1 keep-alive. */
export async function startHaproxyHttp(listen: string, h1Port: number, h2Port: number, server: string): Promise<ReferenceProxy> {
  const bin = ensureDebianBinary(["haproxy"], "haproxy");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ambit-bench-haproxy-http-"));
  const conf = [
    "global", "  nbthread 1",
    "defaults", "  mode http", "  timeout connect 5s", "  timeout client 1m", "  timeout server 1m", "  option http-keep-alive",
    "frontend h1", `  bind ${listen}:${h1Port}`, "  default_backend echo",
    "frontend h2", `  bind ${listen}:${h2Port} proto h2`, "  default_backend echo",
    "backend echo", `  server echo ${server}`,
  ].join("\n") + "\n";
  const file = path.join(dir, "haproxy.cfg");
  fs.writeFileSync(file, conf);
  const proc = startProcess(bin, ["-db", "-V", "-f", file]);
  await proc.waitForLine(/as the polling mechanism/, 10_000);
  return { proc, stop: async () => (proc.kill("SIGKILL"), void (await proc.exited)) };
}

/** nginx with one worker: h1 on `h1Port`, h2c on `h2Port`, to `server` with upstream keep-alive. */
export async function startNginx(listen: string, h1Port: number, h2Port: number, server: string): Promise<ReferenceProxy> {
  const bin = ensureDebianBinary(["nginx"], "nginx-light");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ambit-bench-nginx-"));
  const conf = `
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  upstream echo { server ${server}; keepalive 64; }
  server {
    listen ${listen}:${h1Port};
    listen ${listen}:${h2Port} http2;
    location / { proxy_pass http://echo; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header Host $host; }
  }
}
`;
  const file = path.join(dir, "nginx.conf");
  fs.writeFileSync(file, conf);
  const proc = startProcess(bin, ["-c", file, "-e", `${dir}/error.log`]);
  // nginx prints nothing when it starts well: wait for its pid file.
  const deadline = Date.now() + 10_000;
  while (!fs.existsSync(`${dir}/nginx.pid`)) {
    if (Date.now() > deadline || proc.child.exitCode !== null) throw new Error(`nginx did not start: ${proc.lines.join("\n")}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  // SIGTERM: the master stops its worker. A SIGKILLed master leaves the worker running, holding our output
  // pipes, and `npm run bench` never exits.
  return {
    proc,
    stop: async () => {
      proc.kill("SIGTERM");
      const killLater = setTimeout(() => proc.kill("SIGKILL"), 5_000);
      await proc.exited;
      clearTimeout(killLater);
    },
  };
}
