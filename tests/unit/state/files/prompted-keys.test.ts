import { describe, expect, test } from 'vitest';
import { RawAesKeyring } from '../../../../src/keyrings/raw-aes';
import { withPrompted } from '../../../../src/state/files/download-keys';
import { downloadAnnouncement } from '../../../../src/state/files/format';

const SUITE = 0x0478;

function key(fill: number): RawAesKeyring | Promise<RawAesKeyring> {
  return RawAesKeyring.fromBytes({
    keyBytes: new Uint8Array(32).fill(fill),
    keyName: 'team',
    keyNamespace: 'veil',
  });
}

describe('keys picked at the key prompt', () => {
  test('open a file the vault key of the same name cannot', async () => {
    const original = await key(1);
    const written = await original.onEncrypt({ encryptionContext: {}, suiteId: SUITE });
    const request = {
      suiteId: SUITE,
      encryptionContext: {},
      encryptedDataKeys: written.encryptedDataKeys,
    } as const;
    // The vault now gives the name "team" to another key: it alone fails.
    const vaultKey = await key(2);
    await expect(withPrompted([], vaultKey)?.onDecrypt(request)).rejects.toThrow();
    // The original key picked at the prompt is tried first and opens it.
    const picked = await key(1);
    const opened = await withPrompted([picked], vaultKey)?.onDecrypt(request);
    expect(opened).toEqual(written.dataKey);
  });

  test('no keys at all: no keyring', () => {
    expect(withPrompted([], undefined)).toBeUndefined();
  });
});

describe('download announcements', () => {
  test('phase changes are said; choosing and opening are not', () => {
    expect(downloadAnnouncement('a.txt', 'downloading')).toBe('Downloading a.txt.');
    expect(downloadAnnouncement('a.txt', 'done')).toBe('a.txt downloaded.');
    expect(downloadAnnouncement('a.txt', 'failed', 'DOWNLOAD_S3_REJECTED')).toBe(
      'a.txt failed: DOWNLOAD_S3_REJECTED.',
    );
    expect(downloadAnnouncement('a.txt', 'needs-key')).toContain('needs a key');
    expect(downloadAnnouncement('a.txt', 'choosing')).toBeUndefined();
    expect(downloadAnnouncement('a.txt', 'opening')).toBeUndefined();
  });
});
