/**
 * When to lock the vault for idleness, as pure logic over an injected clock and timer (the app
 * passes Date.now and setTimeout, tests a fake clock). Activity only records a time, so a busy
 * page costs no timer churn; the one timer, when it fires, either locks (idle long enough) or
 * sleeps again until the new deadline. A timer is armed for at most MAX_TIMER_MS: a longer delay
 * would overflow setTimeout's 32-bit delay and fire at once, again and again, never locking.
 */
import { needs } from '../../core/errors';

/** The longest delay setTimeout keeps (2^31 - 1 ms, about 24.8 days); longer ones fire at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** The clock and timer the idle lock runs on. */
export interface IdleClock {
  now(): number;
  setTimeout(run: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
}

export class IdleLock {
  readonly #clock: IdleClock;
  readonly #onIdle: () => void;
  #idleMs = 0;
  #lastActivityMs = 0;
  #timer: unknown;
  #running = false;

  /** `onIdle` runs once per start, when no activity was seen for the idle time. */
  constructor(clock: IdleClock, onIdle: () => void) {
    this.#clock = clock;
    this.#onIdle = onIdle;
  }

  get running(): boolean {
    return this.#running;
  }

  /**
   * Starts (or restarts) watching: locks after `idleMs` with no activity.
   * @throws VeilError OUT_OF_RANGE for a non-positive idle time.
   */
  start(idleMs: number): void {
    needs(Number.isFinite(idleMs) && idleMs > 0, 'OUT_OF_RANGE', 'idleMs');
    this.stop();
    this.#idleMs = idleMs;
    this.#lastActivityMs = this.#clock.now();
    this.#running = true;
    this.#arm(idleMs);
  }

  /** Records activity (a key press, a pointer move, a transfer's progress). */
  touch(): void {
    if (this.#running) this.#lastActivityMs = this.#clock.now();
  }

  /** Stops watching (the vault was locked, or has no lock). */
  stop(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#running = false;
  }

  /** Milliseconds until the vault locks if nothing happens, or undefined when not running. */
  remainingMs(): number | undefined {
    if (!this.#running) return undefined;
    return Math.max(0, this.#lastActivityMs + this.#idleMs - this.#clock.now());
  }

  #arm(delayMs: number): void {
    this.#timer = this.#clock.setTimeout(() => this.#fire(), Math.min(delayMs, MAX_TIMER_MS));
  }

  #fire(): void {
    this.#timer = undefined;
    if (!this.#running) return;
    const remaining = this.remainingMs() ?? 0;
    if (remaining > 0) {
      this.#arm(remaining);
      return;
    }
    this.#running = false;
    this.#onIdle();
  }
}
