// `ambit node token create|revoke <node>`: join tokens for nodes outside
// Kubernetes (docs/controlplane.md, "Who may do what").
import type { Command } from "../command.ts";
import { CONTROLPLANE_FLAGS, OUTPUT_FLAG } from "../common_flags.ts";
import { controlplaneFromFlags } from "../controlplane_client.ts";
import { UsageError } from "../errors.ts";
import { type OutputFormat, render } from "../output.ts";

export const nodeCommand: Command = {
  name: "node",
  summary: "join tokens: create one for a node, or revoke a node's token and certificate",
  usage: "node token (create|revoke) <node> [flags]",
  description: "create prints the token alone on stdout (so $(ambit node token create node-c) works) and how to\n" +
    "start the node on stderr. The token works once, within its TTL; the node then renews with its own certificate.\n" +
    "revoke is final for that node name: it closes the node's xDS streams and refuses its token and certificates.",
  flags: [
    OUTPUT_FLAG,
    { name: "ttl", kind: "number", placeholder: "seconds", help: "how long the token works (it works once), seconds (default: the controlplane's --join-token-ttl, 1 h)" },
    ...CONTROLPLANE_FLAGS,
  ],
  examples: ["ambit node token create node-c", "ambit node token create node-c.example.com --ttl 600", "ambit node token revoke node-c"],
  async run({ flags, args, io }) {
    const [noun, verb, node, ...rest] = args;
    if (noun !== "token" || (verb !== "create" && verb !== "revoke") || !node || rest.length > 0) {
      throw new UsageError("usage: ambit node token create <node> | ambit node token revoke <node>");
    }
    const cp = controlplaneFromFlags(flags, io.env);
    try {
      if (verb === "create") {
        const ttl = flags.ttl === undefined ? undefined : Number(flags.ttl);
        if (ttl !== undefined && !(Number.isInteger(ttl) && ttl > 0)) throw new UsageError(`--ttl: "${flags.ttl}" must be a whole number of seconds`);
        const created = await io.progress("creating a join token", cp.createToken(node, ttl));
        io.out(render(flags.output as OutputFormat, created, () => `${created.token}\n`));
        if (flags.output === "table") {
          io.err(`Join token for ${node}. Start its ztunnel with:\n  ztunnel --node ${node} --controlplane <https://controlplane:15012> ` +
            `--join-token <token> --controlplane-ca <root-cert.pem>\n`);
        }
        return 0;
      }
      const revoked = await io.progress("revoking", cp.revokeToken(node));
      io.out(render(flags.output as OutputFormat, revoked, () => `node ${node} revoked\n`));
      return 0;
    } finally {
      cp.close();
    }
  },
};
