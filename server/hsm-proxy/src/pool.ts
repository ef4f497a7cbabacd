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

export class SessionPool {
  readonly #token: Pkcs11Token;
  readonly #size: number;
  readonly #idle: PooledSession[] = [];
  readonly #waiters: ((session: PooledSession) => void)[] = [];
  #open = 0;
  #inFlight = 0;
  #draining: Promise<void> | undefined;
  #drained: (() => void) | undefined;

  constructor(token: Pkcs11Token, size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError('pool size must be >= 1');
    this.#token = token;
    this.#size = size;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /**
   * Runs `work` with a session of its own. A session the token reports gone is replaced.
   * @throws HsmError HSM_UNAVAILABLE once draining has begun.
   */
  async use<T>(work: (session: PooledSession) => Promise<T>): Promise<T> {
    if (this.#draining) throw new HsmError('HSM_UNAVAILABLE', 'the HSM proxy is shutting down');
    // Counted from the moment it waits, so drain() also waits for queued work.
    this.#inFlight++;
    let session: PooledSession;
    try {
      session = await this.#checkout();
    } catch (error) {
      this.#inFlight--;
      if (this.#draining && this.#inFlight === 0) this.#drained?.();
      throw error;
    }
    let broken = false;
    try {
      return await work(session);
    } catch (error) {
      const code = ckr(error);
      broken = code !== undefined && SESSION_GONE.has(code);
      throw error;
    } finally {
      this.#inFlight--;
      if (broken) {
        this.#token.closeSession(session.handle);
        this.#open--;
      } else {
        this.#checkin(session);
      }
      if (this.#draining && this.#inFlight === 0) this.#drained?.();
    }
  }

  async #checkout(): Promise<PooledSession> {
    const idle = this.#idle.pop();
    if (idle) return idle;
    if (this.#open < this.#size) {
      this.#open++;
      try {
        return { handle: this.#token.openSession(), keys: new Map() };
      } catch (error) {
        this.#open--;
        throw error;
      }
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #checkin(session: PooledSession): void {
    const next = this.#waiters.shift();
    if (next) next(session);
    else this.#idle.push(session);
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
