import type { WorkloadCertificate } from "./workload_certificate.ts";

/**
 * Milliseconds from `now` until a certificate is due for renewal: half way
 * through its life, counted from when it became usable here. CAs backdate
 * notBefore for clock skew (Ambit's by a minute); counting from that would make a
 * short-lived certificate look half spent the moment it arrives.
 */
export function renewalDelayMs(notBefore: Date, notAfter: Date, now: number, receivedAt = now): number {
  const start = Math.max(notBefore.getTime(), receivedAt);
  const halfLife = start + (notAfter.getTime() - start) / 2;
  return Math.max(0, halfLife - now);
}

/**
 * The longest delay a timer can take: setTimeout stores it in a signed 32-bit
 * int, and a longer one fires at once (a 90-day certificate's 45-day half life
 * would renew in a tight loop). Longer waits are taken in steps of this.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Backoff tuning for failed renewals. */
export interface BackoffOptions {
  readonly baseMs: number;
  readonly maxMs: number;
  /** 0..1, replaced in tests to make jitter deterministic. */
  readonly random: () => number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, maxMs: 30_000, random: Math.random };

/**
 * Delay before retry number `attempt` (1-based): exponential, with full jitter
 * over the upper half so a fleet of nodes does not retry in step.
 */
export function backoffDelayMs(attempt: number, options: BackoffOptions = DEFAULT_BACKOFF): number {
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + options.random() * (ceiling / 2));
}

/** What {@link CertificateRenewer} does and to whom it reports. */
export interface RenewerOptions {
  /** Obtains a fresh certificate (from a CA in process or over the network). */
  readonly issue: () => Promise<WorkloadCertificate>;
  /** Called with each new certificate, the first one included. */
  readonly onCertificate: (cert: WorkloadCertificate) => void;
  readonly onError?: (error: unknown, attempt: number) => void;
  readonly backoff?: BackoffOptions;
  /** Replaced in tests, to step through waits longer than a timer can take. */
  readonly timers?: Timers;
}

/** The clock and timer a renewer uses. */
export interface Timers {
  now(): number;
  setTimeout(fn: () => void, ms: number): ReturnType<typeof setTimeout>;
  clearTimeout(timer: ReturnType<typeof setTimeout> | undefined): void;
}

const SYSTEM_TIMERS: Timers = { now: () => Date.now(), setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (t) => clearTimeout(t) };

/**
 * Keeps one identity's certificate fresh: renews at half life, retries failures
 * with backoff, and keeps serving the old certificate until it expires.
 */
export class CertificateRenewer {
  #current: WorkloadCertificate | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;

  constructor(private readonly options: RenewerOptions) {}

  /** The certificate in use, if one has been obtained. */
  get current(): WorkloadCertificate | undefined {
    return this.#current;
  }

  /** Obtains the first certificate (retrying until it succeeds or stop()) and schedules renewals. */
  async start(): Promise<WorkloadCertificate> {
    let attempt = 0;
    for (;;) {
      try {
        const cert = await this.options.issue();
        this.#accept(cert);
        return cert;
      } catch (error) {
        attempt++;
        this.options.onError?.(error, attempt);
        if (this.#stopped) throw error;
        await new Promise((r) => setTimeout(r, backoffDelayMs(attempt, this.options.backoff)));
      }
    }
  }

  /** Cancels the next renewal. */
  stop(): void {
    this.#stopped = true;
    (this.options.timers ?? SYSTEM_TIMERS).clearTimeout(this.#timer);
  }

  #accept(cert: WorkloadCertificate): void {
    this.#current = cert;
    this.options.onCertificate(cert);
    const now = (this.options.timers ?? SYSTEM_TIMERS).now();
    this.#schedule(renewalDelayMs(cert.notBefore, cert.notAfter, now, now), 0);
  }

  #schedule(delayMs: number, attempt: number): void {
    if (this.#stopped) return;
    const timers = this.options.timers ?? SYSTEM_TIMERS;
    timers.clearTimeout(this.#timer);
    const dueAt = timers.now() + delayMs;
    const arm = () => {
      if (this.#stopped) return;
      const left = dueAt - timers.now();
      this.#timer = timers.setTimeout(() => (left > MAX_TIMER_MS ? arm() : void this.#renew(attempt)), Math.max(0, Math.min(left, MAX_TIMER_MS)));
      (this.#timer as { unref?: () => void }).unref?.();
    };
    arm();
  }

  async #renew(attempt: number): Promise<void> {
    try {
      this.#accept(await this.options.issue());
    } catch (error) {
      const next = attempt + 1;
      this.options.onError?.(error, next);
      this.#schedule(backoffDelayMs(next, this.options.backoff), next);
    }
  }
}
