// The controlplane side of delta xDS: one stream per connected node, tracking per
// type what the node has (name → version) so each push carries only what changed
// and removals for what went away. Versions are content hashes (protocol.ts), so
// a resuming node that reports its versions is sent nothing it already has.
import type { DeltaAck, DeltaResponse, DeltaStreamRequest, TypeUrl, XdsNode, XdsResource } from "./protocol.ts";

/** What a node should have now: per type, name → resource with its version. */
export type DesiredResources = ReadonlyMap<TypeUrl, ReadonlyMap<string, XdsResource>>;

/** Options for {@link DeltaXdsServer}. */
export interface XdsServerOptions {
  /**
   * The resources a node should have; called on every push. Return a new map when
   * anything changed: streams in line with the previous map are sent only the delta.
   */
  readonly resourcesFor: (node: XdsNode) => DesiredResources;
  /** Push this long after the last change… (default 100 ms) */
  readonly debounceMs?: number;
  /** …but no later than this after the first (default 10 s). */
  readonly maxDelayMs?: number;
  /** Current config generation, reported as systemVersionInfo. */
  readonly systemVersion?: () => string;
  readonly onEvent?: (event: string, fields: Record<string, unknown>) => void;
  /** How often an idle stream carries an empty line, so the node notices a dead stream (default 5 s; 0: never). */
  readonly keepaliveMs?: number;
  /** Metrics hooks: each response pushed, each NACK received. */
  readonly observer?: XdsServerObserver;
}

/** What the server tells its metrics. */
export interface XdsServerObserver {
  pushed?(typeUrl: TypeUrl): void;
  rejected?(typeUrl: TypeUrl): void;
}

/** The default interval of keepalive lines. */
export const DEFAULT_KEEPALIVE_MS = 5_000;
/** Responses a node may leave unanswered per type before the oldest are forgotten. */
const MAX_PENDING_NONCES = 64;
/** Ended streams kept for proxy-status (the newest per node name, up to this many in all). */
const MAX_ENDED_STREAMS = 1_000;

/** Per-type delivery state of one stream, as proxy-status shows it. */
export interface TypeStatus {
  readonly typeUrl: TypeUrl;
  readonly resources: number;
  readonly lastSentNonce?: string;
  readonly lastAckedNonce?: string;
  readonly lastAckedVersion?: string;
  readonly pendingNonces: number;
  readonly lastNack?: { readonly nonce: string; readonly message: string; readonly failedResources: readonly string[]; readonly at: string };
}

/** One node's stream, as proxy-status shows it. */
export interface StreamStatus {
  readonly streamId: string;
  readonly node: XdsNode;
  readonly connected: boolean;
  readonly connectedAt: string;
  readonly disconnectedAt?: string;
  readonly types: readonly TypeStatus[];
}

interface TypeState {
  /** What the node has (optimistically, once sent; NACKed names roll back). */
  readonly has: Map<string, string>;
  /** Versions the node refused: not resent until they change. */
  readonly rejected: Map<string, string>;
  readonly pending: Map<string, { sent: Map<string, string | undefined>; systemVersion: string }>;
  firstSent: boolean;
  lastSentNonce?: string;
  lastAckedNonce?: string;
  lastAckedVersion?: string;
  lastNack?: TypeStatus["lastNack"];
}

interface Stream {
  readonly id: string;
  readonly node: XdsNode;
  readonly types: Map<TypeUrl, TypeState>;
  readonly connectedAt: Date;
  disconnectedAt?: Date;
  send?: (line: string) => void;
  /** Ends the response body (the node sees its stream close). */
  end?: () => void;
  keepalive?: ReturnType<typeof setInterval>;
  /** The desired state this stream was last brought in line with. */
  lastDesired?: DesiredResources;
}

/** Serves delta xDS streams over any transport that can carry NDJSON lines. */
export class DeltaXdsServer {
  readonly #streams = new Map<string, Stream>();
  readonly #prefix = crypto.randomUUID().slice(0, 8);
  #nonce = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #firstChangeAt: number | undefined;
  /** Names that differ between two desired states, worked out once and shared by every stream. */
  readonly #deltas = new WeakMap<DesiredResources, { next: DesiredResources; changed: Map<TypeUrl, Set<string>> }>();

  constructor(private readonly options: XdsServerOptions) {}

  /**
   * Opens a stream; returns its id and a ReadableStream of NDJSON responses.
   * The first response of every subscribed type is sent at once, even if empty.
   */
  open(request: DeltaStreamRequest): { streamId: string; body: ReadableStream<Uint8Array> } {
    const id = `${this.#prefix}-${crypto.randomUUID().slice(0, 8)}`;
    const types = new Map<TypeUrl, TypeState>();
    for (const [typeUrl, sub] of Object.entries(request.subscriptions) as [TypeUrl, NonNullable<DeltaStreamRequest["subscriptions"][TypeUrl]>][]) {
      types.set(typeUrl, {
        has: new Map(Object.entries(sub.initialResourceVersions ?? {})),
        rejected: new Map(),
        pending: new Map(),
        firstSent: false,
      });
    }
    // A node reconnecting (or restarted, with a new id) replaces its own earlier streams that have
    // ended, so the status list does not grow with every reconnect; the same proxy id opening again
    // means its old stream is dead. node.id is chosen by the client: it never reaches another node's streams.
    for (const [otherId, other] of this.#streams) {
      if (other.node.nodeName !== request.node.nodeName) continue;
      if (other.node.id === request.node.id) this.#end(other);
      if (other.disconnectedAt) this.#streams.delete(otherId);
    }
    this.#pruneEnded();
    const stream: Stream = { id, node: request.node, types, connectedAt: new Date() };
    this.#streams.set(id, stream);
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        stream.send = (line) => {
          try {
            controller.enqueue(encoder.encode(line + "\n"));
          } catch {
            this.#close(stream);
          }
        };
        stream.end = () => {
          try {
            controller.close();
          } catch {
            // already closed by the transport
          }
        };
        // An empty line now and then: the client's proof that the stream is alive (docs/xds.md, keepalive).
        const keepalive = this.options.keepaliveMs ?? DEFAULT_KEEPALIVE_MS;
        if (keepalive > 0) stream.keepalive = setInterval(() => stream.send?.(""), keepalive);
        this.#push(stream);
      },
      cancel: () => this.#close(stream),
    });
    this.options.onEvent?.("stream opened", { streamId: id, node: request.node.nodeName, resumed: [...types.values()].some((t) => t.has.size > 0) });
    return { streamId: id, body };
  }

  /** Applies an ACK or NACK. Returns false when the stream or nonce is unknown. */
  ack(ack: DeltaAck): boolean {
    const stream = this.#streams.get(ack.streamId);
    const state = stream?.types.get(ack.typeUrl);
    const pending = state?.pending.get(ack.responseNonce);
    if (!stream || !state || !pending) return false;
    state.pending.delete(ack.responseNonce);
    if (!ack.errorDetail) {
      state.lastAckedNonce = ack.responseNonce;
      state.lastAckedVersion = pending.systemVersion;
      return true;
    }
    const failed = ack.errorDetail.failedResources ?? [...pending.sent.keys()];
    for (const name of failed) {
      const previous = pending.sent.get(name);
      const version = state.has.get(name);
      if (version !== undefined) state.rejected.set(name, version);
      if (previous === undefined) state.has.delete(name);
      else state.has.set(name, previous);
    }
    state.lastNack = { nonce: ack.responseNonce, message: ack.errorDetail.message, failedResources: failed, at: new Date().toISOString() };
    this.options.observer?.rejected?.(ack.typeUrl);
    this.options.onEvent?.("NACK", { streamId: stream.id, node: stream.node.nodeName, typeUrl: ack.typeUrl, message: ack.errorDetail.message });
    return true;
  }

  /** Schedules a push to every stream (debounced). */
  notifyChanged(): void {
    const now = Date.now();
    this.#firstChangeAt ??= now;
    const debounce = this.options.debounceMs ?? 100;
    const maxDelay = this.options.maxDelayMs ?? 10_000;
    const wait = Math.max(0, Math.min(debounce, this.#firstChangeAt + maxDelay - now));
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#firstChangeAt = undefined;
      for (const s of this.#streams.values()) if (s.send) this.#push(s);
    }, wait);
  }

  /** Every stream known since start, connected or not. */
  status(): StreamStatus[] {
    return [...this.#streams.values()].map((s) => ({
      streamId: s.id,
      node: s.node,
      connected: s.disconnectedAt === undefined,
      connectedAt: s.connectedAt.toISOString(),
      disconnectedAt: s.disconnectedAt?.toISOString(),
      types: [...s.types].map(([typeUrl, t]) => ({
        typeUrl,
        resources: t.has.size,
        lastSentNonce: t.lastSentNonce,
        lastAckedNonce: t.lastAckedNonce,
        lastAckedVersion: t.lastAckedVersion,
        pendingNonces: t.pending.size,
        lastNack: t.lastNack,
      })),
    }));
  }

  /** The keepalive interval streams use, for the transport to tell the client. */
  get keepaliveMs(): number {
    return this.options.keepaliveMs ?? DEFAULT_KEEPALIVE_MS;
  }

  /** The node name a stream was opened as, while the stream is known. */
  nodeOf(streamId: string): XdsNode | undefined {
    return this.#streams.get(streamId)?.node;
  }

  /** Ends every open stream of `nodeName` (a revoked node); returns how many. */
  closeNode(nodeName: string): number {
    let n = 0;
    for (const s of this.#streams.values()) {
      if (s.node.nodeName !== nodeName || s.disconnectedAt) continue;
      this.#end(s);
      n++;
    }
    return n;
  }

  /** Ends every stream. */
  close(): void {
    clearTimeout(this.#timer);
    for (const s of this.#streams.values()) this.#end(s);
  }

  #end(stream: Stream): void {
    const end = stream.end;
    this.#close(stream);
    end?.();
  }

  #close(stream: Stream): void {
    if (stream.disconnectedAt) return;
    stream.disconnectedAt = new Date();
    stream.send = undefined;
    stream.end = undefined;
    clearInterval(stream.keepalive);
    for (const t of stream.types.values()) t.pending.clear();
    this.options.onEvent?.("stream closed", { streamId: stream.id, node: stream.node.nodeName });
  }

  /** Forgets the oldest ended streams beyond {@link MAX_ENDED_STREAMS}. */
  #pruneEnded(): void {
    let ended = 0;
    for (const s of this.#streams.values()) if (s.disconnectedAt) ended++;
    for (const [id, s] of this.#streams) {
      if (ended <= MAX_ENDED_STREAMS) break;
      if (!s.disconnectedAt) continue;
      this.#streams.delete(id);
      ended--;
    }
  }

  /** The names whose version differs between two desired states, per type. */
  #delta(prev: DesiredResources, next: DesiredResources): Map<TypeUrl, Set<string>> {
    const cached = this.#deltas.get(prev);
    if (cached?.next === next) return cached.changed;
    const changed = new Map<TypeUrl, Set<string>>();
    for (const typeUrl of new Set([...prev.keys(), ...next.keys()])) {
      const a = prev.get(typeUrl) ?? new Map<string, XdsResource>();
      const b = next.get(typeUrl) ?? new Map<string, XdsResource>();
      const names = new Set<string>();
      for (const [name, r] of b) if (a.get(name)?.version !== r.version) names.add(name);
      for (const name of a.keys()) if (!b.has(name)) names.add(name);
      changed.set(typeUrl, names);
    }
    this.#deltas.set(prev, { next, changed });
    return changed;
  }

  #push(stream: Stream): void {
    const desired = this.options.resourcesFor(stream.node);
    const systemVersion = this.options.systemVersion?.() ?? "";
    // A stream already in line with the previous state only needs to look at what changed since.
    // (The same map object again may have been edited in place: then compare everything.)
    const delta = stream.lastDesired && stream.lastDesired !== desired ? this.#delta(stream.lastDesired, desired) : undefined;
    stream.lastDesired = desired;
    for (const [typeUrl, state] of stream.types) {
      const want = desired.get(typeUrl) ?? new Map<string, XdsResource>();
      const resources: XdsResource[] = [];
      const removed: string[] = [];
      const sent = new Map<string, string | undefined>();
      const consider = (name: string) => {
        const r = want.get(name);
        if (!r) {
          if (state.has.has(name)) removed.push(name);
          return;
        }
        if (state.has.get(name) === r.version || state.rejected.get(name) === r.version) return;
        sent.set(name, state.has.get(name));
        resources.push(r);
      };
      const names = state.firstSent && delta ? delta.get(typeUrl) ?? new Set<string>() : new Set([...want.keys(), ...state.has.keys()]);
      for (const name of names) consider(name);
      if (resources.length === 0 && removed.length === 0 && state.firstSent) continue;
      const nonce = `${this.#prefix}-${++this.#nonce}`;
      for (const r of resources) state.has.set(r.name, r.version);
      for (const name of removed) {
        sent.set(name, state.has.get(name));
        state.has.delete(name);
        state.rejected.delete(name);
      }
      state.pending.set(nonce, { sent, systemVersion });
      // A node that never answers must not grow this without bound; an ACK for a forgotten nonce is a 404.
      if (state.pending.size > MAX_PENDING_NONCES) state.pending.delete(state.pending.keys().next().value!);
      state.firstSent = true;
      state.lastSentNonce = nonce;
      const response: DeltaResponse = { streamId: stream.id, typeUrl, nonce, systemVersionInfo: systemVersion, resources, removedResources: removed };
      stream.send?.(JSON.stringify(response));
      this.options.observer?.pushed?.(typeUrl);
    }
  }
}
