/**
 * Rotate this key: only objects naming the old key (name and namespace) are planned, the replace
 * goes to the new vault key, the targets are the other vault keys, and the old key may be
 * retired only once every object that named it was rewrapped (or none did).
 */
import { describe, expect, it } from 'vitest';
import type { ProtectionView } from '../../../../src/state/files/protection-change-core';
import { EMPTY_VIEW } from '../../../../src/state/files/protection-change-core';
import {
  canRetire,
  namesKey,
  rotationOperation,
  rotationTargets,
  scanForRotation,
} from '../../../../src/state/keys/rotate-core';

const OLD = { keyName: 'old', keyNamespace: 'veil' };

describe('rotate-core', () => {
  it('matches the old key by name and namespace and replaces it by the new vault key', () => {
    const match = namesKey(OLD);
    expect(match([{ providerId: 'veil', keyName: 'old' }])).toBe(true);
    expect(match([{ providerId: 'other', keyName: 'old' }])).toBe(false);
    expect(match([{ providerId: 'veil', keyName: 'new' }])).toBe(false);
    expect(rotationOperation(OLD, 'new')).toEqual({
      kind: 'replace',
      remove: { providerId: 'veil', keyName: 'old' },
      add: { model: 'A', keyName: 'new' },
    });
    expect(rotationTargets([{ keyName: 'old' }, { keyName: 'a' }, { keyName: 'b' }], OLD)).toEqual([
      'a',
      'b',
    ]);
  });

  it('retires only after every object was rewrapped', () => {
    const run = (states: string[]): ProtectionView => ({
      ...EMPTY_VIEW,
      phase: 'finished',
      objects: states.length,
      run: {
        state: 'done',
        items: states.map((state, i) => ({ key: `k${i}`, state })),
        progress: {} as never,
      } as never,
    });
    expect(canRetire(run(['done', 'done']))).toBe(true);
    expect(canRetire(run(['done', 'failed']))).toBe(false);
    expect(canRetire(run(['done', 'not-started']))).toBe(false);
    expect(canRetire({ ...EMPTY_VIEW, phase: 'planned', objects: 0 })).toBe(true);
    expect(canRetire({ ...EMPTY_VIEW, phase: 'planned', objects: 2 })).toBe(false);
  });

  it('scans the root for the old key, then plans the replace', async () => {
    const calls: unknown[] = [];
    let view: ProtectionView = EMPTY_VIEW;
    await scanForRotation(
      {
        open: (target, match) => {
          calls.push(['open', target, match?.([{ providerId: 'veil', keyName: 'old' }])]);
          view = { ...EMPTY_VIEW, phase: 'choosing' };
          return Promise.resolve();
        },
        plan: (operation) => {
          calls.push(['plan', operation.kind]);
          return Promise.resolve();
        },
        get view() {
          return view;
        },
      },
      'users/me/',
      OLD,
      'new',
    );
    expect(calls).toEqual([
      ['open', { keys: [], prefixes: ['users/me/'] }, true],
      ['plan', 'replace'],
    ]);
  });
});
