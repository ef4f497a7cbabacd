/**
 * [Note: one lock for every tab] The vault's lock holds for the whole origin, not one tab: when
 * a tab locks ("Lock now" or its idle lock), it says so on the BroadcastChannel 'veil-vault' and
 * every other tab of the app locks too, dropping its vault key and sealed keys. An unlock is not
 * shared: each tab asks for its own proof. A message is only ever "locked", so a message from
 * elsewhere on the origin can lock the vault, never open it.
 */

/** The channel's name, shared by every tab of the app's origin. */
export const VAULT_CHANNEL = 'veil-vault';

/** The one message sent. */
const LOCKED = { type: 'locked' } as const;

/** What is used of a BroadcastChannel (tests pass a fake). */
export interface LockChannel {
  postMessage(message: unknown): void;
  /** Calls `onMessage` with the data of each message from another tab. */
  listen(onMessage: (data: unknown) => void): void;
}

/** True for the "locked" message; anything else on the channel is ignored. */
export function isLockedMessage(data: unknown): boolean {
  return (
    typeof data === 'object' && data !== null && (data as { type?: unknown }).type === LOCKED.type
  );
}

/** The browser's channel, or undefined where there is none (Node, an old browser). */
export function browserLockChannel(): LockChannel | undefined {
  if (typeof window === 'undefined' || typeof BroadcastChannel === 'undefined') return undefined;
  const channel = new BroadcastChannel(VAULT_CHANNEL);
  return {
    postMessage: (message) => channel.postMessage(message),
    listen: (onMessage) => {
      channel.addEventListener('message', (event: MessageEvent<unknown>) => onMessage(event.data));
    },
  };
}

/** Tells the other tabs of a lock, and runs `onLockedElsewhere` when another tab locks. */
export class LockBroadcast {
  readonly #channel: LockChannel | undefined;

  constructor(channel: LockChannel | undefined, onLockedElsewhere: () => void) {
    this.#channel = channel;
    channel?.listen((data) => {
      if (isLockedMessage(data)) onLockedElsewhere();
    });
  }

  /** Tells the other tabs that this one locked (BroadcastChannel does not echo to the sender). */
  announce(): void {
    this.#channel?.postMessage(LOCKED);
  }
}
