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
  readonly backoff?: BackoffOptions;
  /** Versions already held (a replacement client resuming where another left off). */
  readonly initialVersions?: ReadonlyMap<TypeUrl, ReadonlyMap<string, string>>;
}

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
      const gotResponse = await this.#stream().catch((e: Error) => {
        this.options.onEvent?.("stream error", { error: e.message });
        return false;
      });
      this.#connected = false;
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
    };
  }

  /** One stream's life; resolves true if any response arrived. */
  async #stream(): Promise<boolean> {
    const request: DeltaStreamRequest = {
      node: this.options.node,
      subscriptions: Object.fromEntries(this.options.types.map((t) => [t, { initialResourceVersions: Object.fromEntries(this.#versions.get(t)!) }])),
    };
    const res = await this.#http.request("POST", "/xds/v1/delta", { body: JSON.stringify(request), headers: { "content-type": "application/json" } });
    if (res.status !== 200) throw new Error(`xDS stream refused: ${res.status} ${(await res.text()).trim()}`);
    this.#connected = true;
    this.#streams++;
    this.options.onEvent?.("stream opened", { url: this.url });
    let got = false;
    let partial = "";
    for await (const chunk of res.stream) {
      partial += chunk.toString();
      const lines = partial.split("\n");
      partial = lines.pop()!;
      for (const line of lines) {
        if (!line.trim()) continue;
        got = true;
        await this.#onResponse(JSON.parse(line) as DeltaResponse);
      }
      if (this.#stopped) break;
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
    await this.#http.json("POST", "/xds/v1/delta/ack", ack).catch((e: Error) => this.options.onEvent?.("ack failed", { error: e.message }));
  }
}
