/**
 * [Note: one lock for every tab] (src/state/keys/vault-broadcast.ts) over a fake channel joining
 * tabs: a lock in one tab locks the others, an unlock or any other message locks or opens nothing.
 */
import { describe, expect, test } from 'vitest';
import {
  isLockedMessage,
  LockBroadcast,
  type LockChannel,
} from '../../../../src/state/keys/vault-broadcast';

/** Channels of one origin: a message posted on one reaches every other (not the sender). */
function origin() {
  const listeners: { channel: LockChannel; onMessage: (data: unknown) => void }[] = [];
  return {
    open(): LockChannel {
      const channel: LockChannel = {
        postMessage(message: unknown) {
          for (const other of listeners) {
            if (other.channel !== channel) other.onMessage(structuredClone(message));
          }
        },
        listen: (onMessage) => void listeners.push({ channel, onMessage }),
      };
      return channel;
    },
  };
}

describe('the lock broadcast', () => {
  test('a lock announced in one tab locks every other tab, once each, and not the sender', () => {
    const site = origin();
    const locks = [0, 0, 0];
    const tabs = locks.map((_, i) => new LockBroadcast(site.open(), () => locks[i]!++));
    tabs[0]!.announce();
    expect(locks).toEqual([0, 1, 1]);
    tabs[2]!.announce();
    expect(locks).toEqual([1, 2, 1]);
  });

  test('attack: a message other than "locked" on the channel locks nothing (and opens nothing)', () => {
    const site = origin();
    let locks = 0;
    new LockBroadcast(site.open(), () => locks++);
    const stranger = site.open();
    for (const data of [undefined, null, 'locked', { type: 'unlocked' }, { type: 'LOCKED' }, 1]) {
      stranger.postMessage(data);
    }
    expect(locks).toBe(0);
    expect(isLockedMessage({ type: 'locked' })).toBe(true);
  });

  test('without a channel (Node, an old browser) announcing does nothing', () => {
    expect(() => new LockBroadcast(undefined, () => undefined).announce()).not.toThrow();
  });
});
