/**
 * What a hostile HTTP/2 peer may cost one connection before it is sent away
 * with GOAWAY ENHANCE_YOUR_CALM: the flood accounting that RFC 9113 section 10.5
 * leaves to implementations, kept out of the session so the bounds read in one
 * place. The numbers are those of the Rust h2 crate ztunnel uses, or nghttp2's
 * where h2 has none (docs/hbone.md, "Hostile peers").
 */
import { ConnectionError, ErrorCode } from "./frames.ts";

/** Bounds for {@link AbuseLimits}; every field has a default. */
export interface AbuseLimitOptions {
  /** Control replies (PING ACK, SETTINGS ACK, RST_STREAM) queued while the peer is not reading. Default 1000. */
  readonly maxQueuedControl?: number;
  /** Streams the peer may reset before we answered them: a burst, refilled at `earlyResetsPerSecond`. Default 100. */
  readonly earlyResetBurst?: number;
  /** Default 20 per second. */
  readonly earlyResetsPerSecond?: number;
  /** Streams we reset for the peer's faults (malformed, refused, on closed streams): burst. Default 1000. */
  readonly errorResetBurst?: number;
  /** Default 100 per second. */
  readonly errorResetsPerSecond?: number;
  /** Clock, for tests. Default `performance.now`. */
  readonly now?: () => number;
}

/**
 * A token bucket: `take()` is false once more than `burst` events came faster
 * than `perSecond`.
 */
export class TokenBucket {
  #tokens: number;
  #last: number;

  constructor(private readonly burst: number, private readonly perSecond: number, private readonly now: () => number) {
    this.#tokens = burst;
    this.#last = now();
  }

  take(): boolean {
    const t = this.now();
    this.#tokens = Math.min(this.burst, this.#tokens + ((t - this.#last) / 1000) * this.perSecond);
    this.#last = t;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

/**
 * One connection's flood counters. Each method throws the {@link ConnectionError}
 * (ENHANCE_YOUR_CALM) that ends the connection once its bound is passed.
 */
export class AbuseLimits {
  readonly #maxQueuedControl: number;
  readonly #earlyResets: TokenBucket;
  readonly #errorResets: TokenBucket;
  #queuedControl = 0;

  constructor(options: AbuseLimitOptions = {}) {
    const now = options.now ?? (() => performance.now());
    this.#maxQueuedControl = options.maxQueuedControl ?? 1000;
    this.#earlyResets = new TokenBucket(options.earlyResetBurst ?? 100, options.earlyResetsPerSecond ?? 20, now);
    this.#errorResets = new TokenBucket(options.errorResetBurst ?? 1000, options.errorResetsPerSecond ?? 100, now);
  }

  /**
   * A reply the peer's frame obliges us to send was queued; `backlogged` says
   * the socket already holds unsent bytes, i.e. the peer is not reading.
   */
  controlReplyQueued(backlogged: boolean): void {
    if (!backlogged) return;
    if (++this.#queuedControl > this.#maxQueuedControl) {
      throw new ConnectionError(ErrorCode.ENHANCE_YOUR_CALM, `over ${this.#maxQueuedControl} control frames queued for a peer that does not read`);
    }
  }

  /** The socket's backlog emptied: the peer reads again. */
  drained(): void {
    this.#queuedControl = 0;
  }

  /** The peer reset a stream before we answered it: the rapid-reset pattern (CVE-2023-44487). */
  earlyReset(): void {
    if (!this.#earlyResets.take()) throw new ConnectionError(ErrorCode.ENHANCE_YOUR_CALM, "too many streams reset before their response (rapid reset)");
  }

  /** We reset a stream because of something the peer did. */
  errorReset(): void {
    if (!this.#errorResets.take()) throw new ConnectionError(ErrorCode.ENHANCE_YOUR_CALM, "too many streams reset for protocol faults");
  }
}
