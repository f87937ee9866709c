// The node side of delta xDS: opens a stream, applies each response, answers
// ACK or NACK (naming the resources it could not apply, having applied the rest),
// and reconnects with backoff and jitter, resuming from the versions it holds.
import { backoffDelayMs, type BackoffOptions, DEFAULT_BACKOFF } from "../identity/renewal.ts";
import { Http2Client, type Http2ClientTls } from "../runtime/http2_client.ts";
import type { DeltaAck, DeltaResponse, DeltaStreamRequest, TypeUrl, XdsNode, XdsResource } from "./protocol.ts";

/** What applying one response produced: the names that failed, with why. */
export interface ApplyResult {
  readonly failed: readonly { readonly name: string; readonly message: string }[];
}

/**
 * Why a stream ended, in ztunnel's words (its istio_xds_connection_terminations_total
 * `reason`): it never opened, it broke, the server ended it, or this client replaced it.
 */
export const XDS_TERMINATION_REASONS = ["ConnectionError", "Error", "Complete", "Reconnect"] as const;
export type XdsTerminationReason = (typeof XDS_TERMINATION_REASONS)[number];

/** Hooks for metrics: each message as it arrives, each stream as it ends. */
export interface XdsClientObserver {
  message?(typeUrl: TypeUrl, bytes: number): void;
  terminated?(reason: XdsTerminationReason): void;
}

/** Options for {@link DeltaXdsClient}. */
export interface XdsClientOptions {
  readonly url: string;
  /**
   * Other replicas of the same controlplane (one store: docs/ha.md). A stream
   * that fails moves to the next URL and resumes there; its ACKs always travel
   * on the stream's own HTTP/2 connection, so they reach the replica holding it.
   */
  readonly fallbackUrls?: readonly string[];
  readonly tls?: Http2ClientTls;
  readonly node: XdsNode;
  readonly types: readonly TypeUrl[];
  /** Applies one response; the resources it does not list as failed count as applied. */
  readonly apply: (typeUrl: TypeUrl, resources: readonly XdsResource[], removed: readonly string[]) => ApplyResult;
  readonly onEvent?: (event: string, fields: Record<string, unknown>) => void;
  readonly observer?: XdsClientObserver;
  readonly backoff?: BackoffOptions;
  /** Extra request headers on the stream and its ACKs (a waypoint's bearer token). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Versions already held (a replacement client resuming where another left off). */
  readonly initialVersions?: ReadonlyMap<TypeUrl, ReadonlyMap<string, string>>;
  /**
   * A stream silent this long is taken for dead and reopened (a partition that
   * drops packets closes nothing). Default: 3 × the keepalive interval the
   * server announces (`x-xds-keepalive-ms`), or 15 s when it announces none.
   */
  readonly silenceTimeoutMs?: number;
}

/** The longest response line accepted (a whole type's resources in one response). */
const MAX_LINE_BYTES = 64 * 1024 * 1024;

/** Counters for tests and the admin API. */
export interface XdsClientStats {
  readonly connected: boolean;
  /** The replica the current (or next) stream goes to. */
  readonly url: string;
  readonly streams: number;
  readonly responses: number;
  readonly resourcesReceived: number;
  readonly removalsReceived: number;
  readonly nacks: number;
  /** Types that have had at least one response since start. */
  readonly synced: readonly TypeUrl[];
  /** When the controlplane was last heard from on a stream (ISO time). */
  readonly lastHeardAt?: string;
}

/** A delta-xDS subscription that keeps itself connected. */
export class DeltaXdsClient {
  readonly #versions = new Map<TypeUrl, Map<string, string>>();
  readonly #synced = new Set<TypeUrl>();
  #http: Http2Client;
  readonly #urls: readonly string[];
  #current = 0;
  #stopped = false;
  #connected = false;
  #streams = 0;
  #responses = 0;
  #resources = 0;
  #removals = 0;
  #nacks = 0;
  #lastHeardAt: Date | undefined;
  /** Every response received, newest last (bounded), for tests and debugging. */
  readonly received: DeltaResponse[] = [];

  constructor(private readonly options: XdsClientOptions) {
    this.#urls = [options.url, ...(options.fallbackUrls ?? [])];
    this.#http = new Http2Client(options.url, options.tls);
    for (const t of options.types) this.#versions.set(t, new Map(options.initialVersions?.get(t)));
  }

  /** Runs until stop(): connect, read, reconnect. */
  async run(): Promise<void> {
    let attempt = 0;
    while (!this.#stopped) {
      const gotResponse = await this.#stream().then((got) => {
        this.options.observer?.terminated?.(this.#stopped ? "Reconnect" : "Complete");
        return got;
      }, (e: Error) => {
        this.options.onEvent?.("stream error", { error: e.message });
        this.options.observer?.terminated?.(this.#stopped ? "Reconnect" : this.#connected ? "Error" : "ConnectionError");
        return false;
      });
      this.#connected = false;
      // Never reuse the connection a stream died on: a peer that dropped it may not have been noticed yet
      // (a runtime can miss the close), and a request on it would wait forever.
      this.#http.close();
      if (this.#stopped) break;
      if (this.#urls.length > 1) this.#moveToNextReplica();
      attempt = gotResponse ? 1 : attempt + 1;
      const delay = backoffDelayMs(attempt, this.options.backoff ?? { ...DEFAULT_BACKOFF, maxMs: 5_000 });
      this.options.onEvent?.("reconnecting", { inMs: delay, attempt });
      await new Promise((r) => setTimeout(r, delay));
    }
  }

  /** The URL the current (or next) stream goes to. */
  get url(): string {
    return this.#urls[this.#current]!;
  }

  #moveToNextReplica(): void {
    this.#http.close();
    this.#current = (this.#current + 1) % this.#urls.length;
    this.#http = new Http2Client(this.url, this.options.tls);
  }

  stop(): void {
    this.#stopped = true;
    this.#http.close();
  }

  /** True once every subscribed type has had its first response. */
  get synced(): boolean {
    return this.options.types.every((t) => this.#synced.has(t));
  }

  /** Why this node is not in sync with the controlplane now (it keeps serving what it has), or undefined. */
  get outOfSync(): string | undefined {
    if (!this.synced) return "waiting for the first xDS response of each type";
    if (this.#connected) return undefined;
    return `not synced: no xDS stream to the controlplane since ${this.#lastHeardAt?.toISOString() ?? "start"}`;
  }

  /** The versions held, per type (what a resumed stream reports). */
  versions(typeUrl: TypeUrl): ReadonlyMap<string, string> {
    return this.#versions.get(typeUrl) ?? new Map();
  }

  stats(): XdsClientStats {
    return {
      connected: this.#connected,
      url: this.url,
      streams: this.#streams,
      responses: this.#responses,
      resourcesReceived: this.#resources,
      removalsReceived: this.#removals,
      nacks: this.#nacks,
      synced: [...this.#synced],
      lastHeardAt: this.#lastHeardAt?.toISOString(),
    };
  }

  /** One stream's life; resolves true if any response arrived. */
  async #stream(): Promise<boolean> {
    const request: DeltaStreamRequest = {
      node: this.options.node,
      subscriptions: Object.fromEntries(this.options.types.map((t) => [t, { initialResourceVersions: Object.fromEntries(this.#versions.get(t)!) }])),
    };
    const res = await this.#http.request("POST", "/xds/v1/delta", {
      body: JSON.stringify(request),
      headers: { "content-type": "application/json", ...this.options.headers },
      timeoutMs: this.options.silenceTimeoutMs ?? 15_000,
    });
    if (res.status !== 200) throw new Error(`xDS stream refused: ${res.status} ${(await res.text()).trim()}`);
    this.#connected = true;
    this.#streams++;
    this.#lastHeardAt = new Date();
    this.options.onEvent?.("stream opened", { url: this.url });
    const announced = Number(res.headers["x-xds-keepalive-ms"]);
    const silenceMs = this.options.silenceTimeoutMs ?? (announced > 0 ? 3 * announced : 15_000);
    let silence: ReturnType<typeof setTimeout> | undefined;
    // The silence ends the read below itself: on some runtimes a stream whose connection the peer already
    // dropped never settles its iterator, even when destroyed.
    let declareDead!: (e: Error) => void;
    const dead = new Promise<never>((_, reject) => (declareDead = reject));
    dead.catch(() => {});
    const heard = () => {
      this.#lastHeardAt = new Date();
      clearTimeout(silence);
      silence = setTimeout(() => {
        this.#connected = false;
        this.options.onEvent?.("stream silent", { forMs: silenceMs });
        const error = new Error(`no word from the controlplane in ${silenceMs} ms`);
        declareDead(error);
        res.stream.destroy(error);
        this.#http.close();
      }, silenceMs);
    };
    heard();
    let got = false;
    let partial = "";
    const chunks = (res.stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    try {
      for (;;) {
        const next = await Promise.race([chunks.next(), dead]);
        if (next.done) break;
        heard();
        const lines = (partial + next.value.toString()).split("\n");
        partial = lines.pop()!;
        if (partial.length > MAX_LINE_BYTES) throw new Error(`xDS response line longer than ${MAX_LINE_BYTES} bytes`);
        for (const line of lines) {
          if (!line.trim()) continue;
          got = true;
          const response = JSON.parse(line) as DeltaResponse;
          this.options.observer?.message?.(response.typeUrl, Buffer.byteLength(line));
          // The ACK is a request on the same connection: if it dies meanwhile, the silence must end this wait too.
          await Promise.race([this.#onResponse(response), dead]);
        }
        if (this.#stopped) break;
      }
    } finally {
      clearTimeout(silence);
    }
    return got;
  }

  async #onResponse(response: DeltaResponse): Promise<void> {
    this.#responses++;
    this.#resources += response.resources.length;
    this.#removals += response.removedResources.length;
    this.received.push(response);
    if (this.received.length > 1000) this.received.shift();
    const versions = this.#versions.get(response.typeUrl);
    let ack: DeltaAck;
    if (!versions) {
      ack = { streamId: response.streamId, typeUrl: response.typeUrl, responseNonce: response.nonce, errorDetail: { message: `not subscribed to ${response.typeUrl}` } };
    } else {
      let result: ApplyResult;
      try {
        result = this.options.apply(response.typeUrl, response.resources, response.removedResources);
      } catch (e) {
        result = { failed: response.resources.map((r) => ({ name: r.name, message: (e as Error).message })) };
      }
      const failed = new Set(result.failed.map((f) => f.name));
      for (const r of response.resources) if (!failed.has(r.name)) versions.set(r.name, r.version);
      for (const name of response.removedResources) versions.delete(name);
      this.#synced.add(response.typeUrl);
      ack = { streamId: response.streamId, typeUrl: response.typeUrl, responseNonce: response.nonce };
      if (result.failed.length > 0) {
        this.#nacks++;
        ack = { ...ack, errorDetail: { message: result.failed.map((f) => `${f.name}: ${f.message}`).join("; "), failedResources: [...failed] } };
      }
    }
    await this.#http.json("POST", "/xds/v1/delta/ack", ack, { ...this.options.headers }).catch((e: Error) => this.options.onEvent?.("ack failed", { error: e.message }));
  }
}
