/**
 * A pool of logged-in PKCS#11 sessions with exclusive checkout: one operation per session at a
 * time (a shared session fails under concurrency, see [Note: PKCS#11 facts] in pkcs11.ts).
 * Waiters are served first come, first served. `drain` stops new checkouts, waits for the ones
 * in flight, then closes every session, so C_Finalize never runs with a call in flight.
 */
import pkcs11js from 'pkcs11js';
import { ckr, HsmError, type Pkcs11Token } from './pkcs11';

/** A session on loan, with the key handles it has found (handles are per session). */
export interface PooledSession {
  readonly handle: Buffer;
  readonly keys: Map<string, Buffer>;
}

const SESSION_GONE = new Set<number>([
  pkcs11js.CKR_SESSION_HANDLE_INVALID,
  pkcs11js.CKR_SESSION_CLOSED,
  pkcs11js.CKR_DEVICE_REMOVED,
  pkcs11js.CKR_TOKEN_NOT_PRESENT,
]);

type Waiter = {
  resolve: (session: PooledSession) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
};

export class SessionPool {
  readonly #token: Pkcs11Token;
  readonly #size: number;
  readonly #checkoutTimeoutMs: number;
  readonly #idle: PooledSession[] = [];
  readonly #waiters: Waiter[] = [];
  #open = 0;
  #inFlight = 0;
  #draining: Promise<void> | undefined;
  #drained: (() => void) | undefined;

  /** @param checkoutTimeoutMs how long a request may wait for a free session before 503. */
  constructor(token: Pkcs11Token, size: number, checkoutTimeoutMs = 30_000) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError('pool size must be >= 1');
    this.#token = token;
    this.#size = size;
    this.#checkoutTimeoutMs = checkoutTimeoutMs;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /**
   * Runs `work` with a session of its own. A session the token reports gone is closed and
   * replaced, also for requests already waiting.
   * @throws HsmError HSM_UNAVAILABLE once draining has begun, or after waiting too long.
   */
  async use<T>(work: (session: PooledSession) => Promise<T>): Promise<T> {
    if (this.#draining) throw new HsmError('HSM_UNAVAILABLE', 'the HSM proxy is shutting down');
    // Counted from the moment it waits, so drain() also waits for queued work.
    this.#inFlight++;
    let session: PooledSession | undefined;
    let broken = false;
    try {
      session = await this.#checkout();
      return await work(session);
    } catch (error) {
      const code = ckr(error);
      broken = code !== undefined && SESSION_GONE.has(code);
      throw error;
    } finally {
      this.#inFlight--;
      if (session && broken) this.#replace(session);
      else if (session) this.#checkin(session);
      if (this.#draining && this.#inFlight === 0) this.#drained?.();
    }
  }

  #openSession(): PooledSession {
    this.#open++;
    try {
      return { handle: this.#token.openSession(), keys: new Map() };
    } catch (error) {
      this.#open--;
      throw error;
    }
  }

  #checkout(): Promise<PooledSession> {
    const idle = this.#idle.pop();
    if (idle) return Promise.resolve(idle);
    if (this.#open < this.#size) return Promise.resolve(this.#openSession());
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
          reject(new HsmError('HSM_UNAVAILABLE', 'every HSM session stayed busy: try again'));
        }, this.#checkoutTimeoutMs),
      };
      this.#waiters.push(waiter);
    });
  }

  #checkin(session: PooledSession): void {
    const next = this.#waiters.shift();
    if (!next) {
      this.#idle.push(session);
      return;
    }
    clearTimeout(next.timer);
    next.resolve(session);
  }

  /** Closes a session the token reported gone and, if a request waits, opens it a new one. */
  #replace(session: PooledSession): void {
    this.#token.closeSession(session.handle);
    this.#open--;
    const next = this.#waiters.shift();
    if (!next) return;
    clearTimeout(next.timer);
    try {
      next.resolve(this.#openSession());
    } catch (error) {
      next.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** Stops new work, waits for work in flight, closes all sessions. Idempotent. */
  drain(): Promise<void> {
    this.#draining ??= (async () => {
      if (this.#inFlight > 0) await new Promise<void>((resolve) => (this.#drained = resolve));
      for (const session of this.#idle.splice(0)) this.#token.closeSession(session.handle);
      this.#open = 0;
    })();
    return this.#draining;
  }
}
