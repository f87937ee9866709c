// What the local config table tests share: the file name problems are reported
// against, the parse with the test defaults, and the head of a one-policy file.
import { parseLocalConfig } from "./local_config.ts";

export const FILE = "ztunnel.yaml";
const DEFAULTS = { trustDomain: "cluster.local" };
export const parse = (text: string) => parseLocalConfig(text, FILE, DEFAULTS);

export const POLICY_HEAD = `policies:
- name: p
  namespace: default
  scope: Namespace
  action: Allow
  rules:
`;
