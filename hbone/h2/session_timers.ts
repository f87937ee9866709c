/**
 * A connection's clocks: keepalive PINGs, so a peer that vanished without a
 * FIN is noticed, and the idle timeout, so a connection carrying no stream is
 * closed. Timers are unref'd: they never keep a process alive.
 */

/** Tuning for {@link SessionTimers}; a field left out turns that timer off. */
export interface SessionTimerOptions {
  /** Send a PING after this long without a frame from the peer. */
  readonly keepaliveIntervalMs?: number;
  /** …and give up on the connection when no frame answers it within this long. */
  readonly keepaliveTimeoutMs?: number;
  /** Close the connection after this long with no open stream. */
  readonly idleTimeoutMs?: number;
}

/** What the timers do to their connection. */
export interface TimedConnection {
  sendPing(payload: Uint8Array): void;
  /** The peer did not answer a keepalive. */
  keepaliveTimedOut(): void;
  /** No stream for the idle timeout. */
  idle(): void;
}

/** The opaque data of keepalive PINGs, told apart from the drain PING of a graceful close. */
export const KEEPALIVE_PING = Uint8Array.from([0x6b, 0x65, 0x65, 0x70, 0x61, 0x6c, 0x69, 0x76]);

export class SessionTimers {
  #heard = false;
  #keepalive: ReturnType<typeof setTimeout> | undefined;
  #idle: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;

  constructor(private readonly options: SessionTimerOptions, private readonly connection: TimedConnection) {
    this.#armKeepalive();
    this.streamsChanged(0);
  }

  /** A frame arrived: the peer is alive. Called per received chunk, so it only sets a flag. */
  heard(): void {
    this.#heard = true;
  }

  /** The number of open streams changed: the idle clock runs only at zero. */
  streamsChanged(open: number): void {
    const ms = this.options.idleTimeoutMs;
    if (ms === undefined || this.#stopped) return;
    if (open > 0) {
      clearTimeout(this.#idle);
      this.#idle = undefined;
    } else if (this.#idle === undefined) {
      this.#idle = unref(setTimeout(() => this.connection.idle(), ms));
    }
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#keepalive);
    clearTimeout(this.#idle);
  }

  #armKeepalive(): void {
    const interval = this.options.keepaliveIntervalMs;
    if (interval === undefined || this.#stopped) return;
    this.#heard = false;
    this.#keepalive = unref(setTimeout(() => {
      if (this.#heard) return this.#armKeepalive();
      this.connection.sendPing(KEEPALIVE_PING);
      this.#keepalive = unref(setTimeout(() => {
        if (this.#heard) this.#armKeepalive();
        else this.connection.keepaliveTimedOut();
      }, this.options.keepaliveTimeoutMs ?? interval));
    }, interval));
  }
}

function unref<T>(timer: T): T {
  (timer as { unref?: () => void }).unref?.();
  return timer;
}
