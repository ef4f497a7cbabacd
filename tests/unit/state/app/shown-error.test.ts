/**
 * What an error notice shows ([Note: errors lead with words] in src/state/app/shown-error.ts):
 * a plain sentence first and the action to take, the code last for support; the wording that
 * misled a new user (a key "you gave" when none was given, provider ids, a URL "in Settings"
 * that Settings cannot change) is gone.
 */
import { describe, expect, test } from 'vitest';
import { VeilError } from '../../../../src/core/errors';
import { decryptBytes, encryptBytes } from '../../../../src/core/one-shot';
import { codeLine, noticeText, shownError } from '../../../../src/state/app/shown-error';
import { ourKeyring, testKeyBytes } from '../../core/helpers';

describe('noticeText', () => {
  test('leads with the first sentence, then the rest', () => {
    const shown = shownError(new VeilError('WRONG_KEY'));
    expect(noticeText(shown.message)).toEqual({
      lead: 'The key has the right name but could not open the file: it is a different key with the same name.',
      rest: 'Use the original key file.',
    });
  });

  test('a full stop inside brackets does not end the lead; one sentence is all lead', () => {
    expect(noticeText('It failed (see a.b. here). Try again.')).toEqual({
      lead: 'It failed (see a.b. here).',
      rest: 'Try again.',
    });
    expect(noticeText('Nothing more')).toEqual({ lead: 'Nothing more', rest: '' });
  });

  test('the code is its own small line, for support', () => {
    expect(codeLine('WRONG_KEY')).toBe('Code: WRONG_KEY');
  });
});

describe('messages a new user met', () => {
  test('no key given: the message says nothing of a key "you gave"', () => {
    const { lead } = noticeText(shownError(new VeilError('NO_MATCHING_EDK')).message);
    expect(lead).toBe(
      'None of the keys at hand opens this file: it was encrypted under other keys.',
    );
    expect(shownError(new VeilError('NO_MATCHING_EDK')).message).not.toMatch(/you gave/);
  });

  test('a file of other keys names them in words, never as provider ids', async () => {
    const writer = await ourKeyring(testKeyBytes(256), 'team-key', 'veil');
    const stranger = await ourKeyring(testKeyBytes(256, 3), 'someone', 'veil');
    const message = await encryptBytes(new Uint8Array(10), { keyring: writer });
    const error = await decryptBytes(message, { keyring: stranger }).catch((e: unknown) => e);
    const shown = shownError(error);
    expect(shown.code).toBe('NO_MATCHING_EDK');
    expect(shown.message).toContain(
      '(it opens with a key file or passphrase backup named "team-key")',
    );
    expect(shown.message).not.toContain('keys from');
  });

  test('the HSM proxy: where its URL is set (config.json, by whoever hosts the site), not Settings', () => {
    const { message } = shownError(new VeilError('HSM_PROXY_UNREACHABLE'));
    expect(message).toContain('config.json');
    expect(message).toContain('whoever hosts this site');
    expect(message).not.toContain('in Settings');
    expect(shownError(new VeilError('HSM_INVALID_RESPONSE')).message).not.toContain('in Settings');
  });

  test('anything else shows as INTERNAL_ERROR with a sentence, never a stack', () => {
    const shown = shownError(new Error('boom at x.js:1'));
    expect(shown.code).toBe('INTERNAL_ERROR');
    expect(noticeText(shown.message).lead).toMatch(/^Something unexpected went wrong/);
    expect(shown.message).not.toContain('x.js');
  });
});
