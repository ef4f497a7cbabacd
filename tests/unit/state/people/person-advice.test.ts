/**
 * The key-needed prompt for a file shared with a person ([Note: a person's key]): the advice says
 * "a person’s key (fingerprint …)" and points at the key pair in Keys, and no key file is offered
 * (no key file opens a person's EDK); a Model A key beside it still offers one.
 */
import { describe, expect, it } from 'vitest';
import { formatFingerprint } from '../../../../src/core/provider-info';
import { keyAdvice, offersKeyFile } from '../../../../src/state/files/download-keys';

const FINGERPRINT = '3f2a'.repeat(16);

describe('advice for a person’s key', () => {
  it('names the fingerprint in groups and offers no key file', () => {
    const advice = keyAdvice([{ providerId: 'veil-person', keyName: FINGERPRINT }], {
      signedIn: false,
      vaultKeyNames: [],
    });
    expect(advice).toHaveLength(1);
    expect(advice[0]?.text).toContain(
      `a person’s key (fingerprint ${formatFingerprint(FINGERPRINT)})`,
    );
    expect(advice[0]?.text).toContain('key pair in Keys');
    expect(advice[0]?.text).not.toContain('key file');
    expect(offersKeyFile(advice)).toBe(false);
  });

  it('still offers a key file for a Model A key beside it', () => {
    const advice = keyAdvice(
      [
        { providerId: 'veil-person', keyName: FINGERPRINT },
        { providerId: 'veil', keyName: 'team-key' },
      ],
      { signedIn: false, vaultKeyNames: [] },
    );
    expect(offersKeyFile(advice)).toBe(true);
  });
});
