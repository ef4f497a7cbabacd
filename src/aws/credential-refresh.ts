/**
 * A credential provider that refreshes before expiry ([Note: credential refresh] in
 * credentials.ts).
 */
import { needs } from '../core/errors';
import {
  credentialsError,
  summaryOf,
  type CredentialProvider,
  type CredentialSummary,
  type VeilCredentials,
} from './credential-provider';

/** A provider that refreshes before expiry ([Note: credential refresh]). */
export interface RefreshingProvider extends CredentialProvider {
  /** The credentials in hand, without secrets, or undefined before the first fetch. */
  summary(): CredentialSummary | undefined;
  /** Drops the credentials in hand (sign-out); the next call fetches anew. */
  forget(): void;
}

/** Options of refreshingProvider. */
export interface RefreshOptions {
  /** Refresh this long before expiry, in milliseconds; default 60 000. */
  readonly marginMs?: number;
  /**
   * After a failed refresh, wait this long before the next attempt while the credentials in hand
   * are still valid, in milliseconds; default 10 000.
   */
  readonly retryDelayMs?: number;
  /** The clock, in milliseconds since the epoch (tests pass a fake). */
  readonly now?: () => number;
  /** Called after each successful fetch with the new summary. */
  readonly onRefresh?: (summary: CredentialSummary) => void;
}

export const DEFAULT_REFRESH_MARGIN_MS = 60_000;
export const DEFAULT_RETRY_DELAY_MS = 10_000;

/**
 * Wraps `fetch` so that credentials are reused until `marginMs` before they expire
 * ([Note: credential refresh]). Credentials without an expiry are kept until forgotten. A failed
 * refresh is not retried for `retryDelayMs` while the credentials in hand are still valid.
 * `forget()` starts a new generation: a fetch begun before it never reaches a caller or the
 * cache; callers waiting on it fetch again.
 * @throws VeilError (from the returned provider) CREDENTIALS_* codes mapped from the source.
 */
export function refreshingProvider(
  fetch: CredentialProvider,
  options: RefreshOptions = {},
): RefreshingProvider {
  const marginMs = options.marginMs ?? DEFAULT_REFRESH_MARGIN_MS;
  const retryDelayMs = options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS;
  const now = options.now ?? Date.now;
  // Precondition: a non-negative margin and retry delay.
  needs(Number.isFinite(marginMs) && marginMs >= 0, 'OUT_OF_RANGE', 'marginMs');
  needs(Number.isFinite(retryDelayMs) && retryDelayMs >= 0, 'OUT_OF_RANGE', 'retryDelayMs');
  let current: VeilCredentials | undefined;
  let inFlight: Promise<VeilCredentials> | undefined;
  let generation = 0;
  /** No new attempt before this time (ms) while `current` is valid, after a failure. */
  let retryAfterMs = 0;
  /** True once this generation obtained credentials: a later failure is a failed refresh. */
  let connected = false;

  const fresh = (credentials: VeilCredentials | undefined): credentials is VeilCredentials =>
    credentials !== undefined &&
    (credentials.expiration === undefined || credentials.expiration.getTime() - now() > marginMs);
  const valid = (credentials: VeilCredentials | undefined): credentials is VeilCredentials =>
    credentials !== undefined &&
    (credentials.expiration === undefined || credentials.expiration.getTime() > now());

  const start = (): Promise<VeilCredentials> => {
    const started = generation;
    const promise: Promise<VeilCredentials> = fetch()
      .then(
        (credentials) => {
          if (started === generation) {
            current = credentials;
            connected = true;
            retryAfterMs = 0;
            options.onRefresh?.(summaryOf(credentials));
          }
          return credentials;
        },
        (error: unknown) => {
          if (started === generation) retryAfterMs = now() + retryDelayMs;
          throw error;
        },
      )
      .finally(() => {
        // Only this fetch's own slot: a newer one may have started after forget().
        if (inFlight === promise) inFlight = undefined;
      });
    inFlight = promise;
    return promise;
  };

  const provider = (async () => {
    for (;;) {
      if (fresh(current)) return current;
      if (!inFlight && valid(current) && now() < retryAfterMs) return current;
      const started = generation;
      const refreshing = connected;
      try {
        const credentials = await (inFlight ?? start());
        // Forgotten while it was under way: these belong to the old identity.
        if (started !== generation) continue;
        return credentials;
      } catch (error) {
        if (started !== generation) continue;
        // A refresh that fails early is not fatal while the credentials in hand still work.
        if (valid(current)) return current;
        throw credentialsError(error, refreshing ? 'refresh' : 'connect');
      }
    }
  }) as RefreshingProvider;
  provider.summary = () => (current ? summaryOf(current) : undefined);
  provider.forget = () => {
    current = undefined;
    inFlight = undefined;
    connected = false;
    retryAfterMs = 0;
    generation += 1;
  };
  return provider;
}
