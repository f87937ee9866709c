/** Transparent capture's rules, shared by `ambit capture` and the ztunnel (docs/capture.md). */
export {
  type CapturedWorkload, type CapturePorts, type CaptureRules, type CaptureRulesInput, DEFAULT_CAPTURE_PORTS, DEFAULT_CAPTURE_TABLE,
  HEARTBEAT_SECONDS, ownerCaptureAddress, renderCaptureRules, renderHeartbeat, renderUninstall, ZTUNNEL_MARK,
} from "./nftables.ts";
