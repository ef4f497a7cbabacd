/**
 * What Settings shows once signed in: one summary line (who, how, until when) instead of the
 * sign-in forms, which come back when signed out, after a failure, and while the user chose
 * Switch. Before this, the forms stayed on screen whatever the session's state.
 */
import { describe, expect, test } from 'vitest';
import {
  signInFormsShown,
  signInSummary,
  type SessionStatus,
} from '../../../../src/state/shared/sign-in-summary';

const at = (ms: number): string => `T${ms}`;
const EXPIRES = new Date(1_700_000_090_000);

function ready(over: Partial<Extract<SessionStatus, { state: 'ready' }>>): SessionStatus {
  return {
    state: 'ready',
    source: 'user',
    summary: { identityId: 'us-east-1:id', accessKeyHint: 'ASIA', expiresAt: EXPIRES },
    username: 'demo',
    remembered: false,
    kept: false,
    ...over,
  };
}

describe('signInFormsShown', () => {
  test('hidden once ready, shown in every other state', () => {
    expect(signInFormsShown(ready({}), false)).toBe(false);
    for (const status of [
      { state: 'signed-out' },
      { state: 'working', source: 'user' },
      { state: 'failed', source: 'user', code: 'LOGIN_FAILED', message: 'm' },
    ] as SessionStatus[]) {
      expect(signInFormsShown(status, false)).toBe(true);
    }
  });

  test('Switch brings them back beside a ready session', () => {
    expect(signInFormsShown(ready({ source: 'guest' }), true)).toBe(true);
  });
});

describe('signInSummary', () => {
  test('none unless ready', () => {
    expect(signInSummary({ state: 'signed-out' }, at)).toBeUndefined();
    expect(signInSummary({ state: 'working', source: 'sso' }, at)).toBeUndefined();
  });

  test('a password sign-in: who, how, when the credentials expire', () => {
    expect(signInSummary(ready({}), at)).toEqual({
      lead: 'Signed in as demo',
      details: [
        'user name and password',
        `credentials expire at T${EXPIRES.getTime()}, renewed automatically`,
      ],
      identityId: 'us-east-1:id',
    });
  });

  test('a kept sign-in says so', () => {
    expect(signInSummary(ready({ kept: true }), at)?.details[0]).toBe(
      'kept sign-in on this device',
    );
  });

  test('SSO, a guest, and IAM keys (no expiry, remembered for this tab)', () => {
    expect(signInSummary(ready({ source: 'sso', username: 'ana@example.org' }), at)).toMatchObject({
      lead: 'Signed in as ana@example.org',
      details: ['single sign-on', expect.any(String)],
    });
    expect(signInSummary(ready({ source: 'guest', username: undefined }), at)).toMatchObject({
      lead: 'Signed in as a guest',
      details: ['guest identity', expect.any(String)],
    });
    const keys = ready({
      source: 'keys',
      username: undefined,
      remembered: true,
      summary: { identityId: '', accessKeyHint: 'AKIA', expiresAt: undefined },
    });
    expect(signInSummary(keys, at)).toEqual({
      lead: 'Signed in with IAM access keys',
      details: ['key AKIA…', 'no expiry', 'remembered for this tab'],
      identityId: '',
    });
  });
});
