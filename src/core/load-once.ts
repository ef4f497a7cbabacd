/**
 * A module fetched on demand with `import()`, once ([Note: lazy seams] in src/aws/sdk-loader.ts).
 * The load is shared by every caller; a failed fetch (offline, or a deployment that replaced the
 * chunk's content-hashed name) is not kept, so the next call tries again, and it surfaces as
 * APP_CODE_UNAVAILABLE.
 */
import { VeilError } from './errors';

/** A module fetched on demand, once. */
export interface LoadOnce<T> {
  /** The module once loaded, else undefined (lets a view render without waiting a tick). */
  readonly current: T | undefined;
  /**
   * Loads the module, or returns the load under way or done.
   * @throws VeilError APP_CODE_UNAVAILABLE when the fetch or the module's evaluation fails.
   */
  load(): Promise<T>;
}

/** Wraps `load` (usually `() => import('...')`) so it runs once and a failure can be retried. */
export function loadOnce<T>(load: () => Promise<T>): LoadOnce<T> {
  let current: T | undefined;
  let pending: Promise<T> | undefined;
  return {
    get current() {
      return current;
    },
    load() {
      pending ??= load().then(
        (module) => (current = module),
        (error: unknown) => {
          pending = undefined;
          if (error instanceof VeilError) throw error;
          const detail = error instanceof Error ? error.message : String(error);
          throw new VeilError('APP_CODE_UNAVAILABLE', detail, { cause: error });
        },
      );
      return pending;
    },
  };
}
