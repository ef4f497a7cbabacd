import { CompactEncrypt, compactDecrypt, decodeProtectedHeader } from 'jose';
import { describe, expect, test } from 'vitest';
import { VeilError } from '../../../src/core/errors';
import { parseKeyFile, serializeKeyFile } from '../../../src/core/key-file';
import {
  BACKUP_ITERATIONS,
  MAX_BACKUP_ITERATIONS,
  createBackup,
  describeBackup,
  openBackup,
} from '../../../src/keyrings/key-backup';

const PASSPHRASE = 'correct horse battery staple';
const key = () => ({
  keyBytes: Uint8Array.from({ length: 32 }, (_, i) => i * 7),
  keyName: 'team-key',
  keyNamespace: 'veil',
});

async function rejects(run: () => Promise<unknown>, code: string): Promise<void> {
  const error = await run().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(VeilError);
  expect((error as VeilError).code).toBe(code);
}

describe('passphrase backups (JWE, PBES2)', () => {
  test('a new backup is a compact JWE with PBES2-HS256+A128KW, A256GCM, 600,000 iterations', async () => {
    const text = await createBackup(key(), PASSPHRASE);
    expect(text.split('.')).toHaveLength(5);
    const header = decodeProtectedHeader(text);
    expect(header).toMatchObject({
      alg: 'PBES2-HS256+A128KW',
      enc: 'A256GCM',
      cty: 'jwk+json',
      kid: 'team-key',
      p2c: BACKUP_ITERATIONS,
    });
    expect(BACKUP_ITERATIONS).toBe(600_000);
    expect(typeof header.p2s).toBe('string');
    // Another JOSE reader (jose used directly, as any tool would) gets the key file back.
    const { plaintext } = await compactDecrypt(text, new TextEncoder().encode(PASSPHRASE), {
      keyManagementAlgorithms: ['PBES2-HS256+A128KW'],
      maxPBES2Count: BACKUP_ITERATIONS,
    });
    expect(new TextDecoder().decode(plaintext)).toBe(serializeKeyFile(key()));
    // The key bytes are not in the backup in clear.
    expect(text).not.toContain(serializeKeyFile(key()).match(/"k": "([^"]+)"/)?.[1] ?? 'x');
  });

  test('round trip: the same key, name and namespace come back; the header is readable first', async () => {
    const text = await createBackup(key(), PASSPHRASE, 1000);
    expect(describeBackup(text)).toEqual({
      keyName: 'team-key',
      keyAlgorithm: 'PBES2-HS256+A128KW',
      iterations: 1000,
    });
    const opened = await openBackup(`${text}\n`, PASSPHRASE);
    expect(opened).toEqual(key());
  });

  test('two backups of one key differ (fresh salt and IV)', async () => {
    const [a, b] = await Promise.all([
      createBackup(key(), PASSPHRASE, 1000),
      createBackup(key(), PASSPHRASE, 1000),
    ]);
    expect(a).not.toBe(b);
  });

  test('a wrong passphrase is BACKUP_WRONG_PASSPHRASE', async () => {
    const text = await createBackup(key(), PASSPHRASE, 1000);
    await rejects(
      () => openBackup(text, 'correct horse battery stapler'),
      'BACKUP_WRONG_PASSPHRASE',
    );
  });

  test('an altered backup does not open', async () => {
    const text = await createBackup(key(), PASSPHRASE, 1000);
    const parts = text.split('.');
    const ct = parts[3] ?? '';
    parts[3] = (ct[0] === 'A' ? 'B' : 'A') + ct.slice(1);
    await rejects(() => openBackup(parts.join('.'), PASSPHRASE), 'BACKUP_WRONG_PASSPHRASE');
  });

  test('backups written elsewhere with the other PBES2 variants open', async () => {
    const text = await new CompactEncrypt(new TextEncoder().encode(serializeKeyFile(key())))
      .setProtectedHeader({ alg: 'PBES2-HS512+A256KW', enc: 'A128GCM' })
      .setKeyManagementParameters({ p2c: 2000 })
      .encrypt(new TextEncoder().encode(PASSPHRASE));
    expect(describeBackup(text).keyName).toBeUndefined();
    expect(await openBackup(text, PASSPHRASE)).toEqual(key());
  });

  test('what is not a Veil backup is BACKUP_INVALID', async () => {
    expect(() => describeBackup('not a jwe')).toThrow(VeilError);
    await rejects(() => openBackup('not a jwe', PASSPHRASE), 'BACKUP_INVALID');
    // A JWE with another key management algorithm (direct key) is refused before any work.
    const direct = await new CompactEncrypt(new TextEncoder().encode('{}'))
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
      .encrypt(new Uint8Array(32));
    await rejects(() => openBackup(direct, PASSPHRASE), 'BACKUP_INVALID');
    // A PBES2 JWE whose payload is not a key file.
    const other = await new CompactEncrypt(new TextEncoder().encode('{"hello":1}'))
      .setProtectedHeader({ alg: 'PBES2-HS256+A128KW', enc: 'A256GCM' })
      .setKeyManagementParameters({ p2c: 1000 })
      .encrypt(new TextEncoder().encode(PASSPHRASE));
    await rejects(() => openBackup(other, PASSPHRASE), 'BACKUP_INVALID');
  });

  test('an iteration count above the limit is refused without deriving', async () => {
    const header = btoa(
      JSON.stringify({
        alg: 'PBES2-HS256+A128KW',
        enc: 'A256GCM',
        p2s: 'AAAAAAAAAAAAAAAAAAAAAA',
        p2c: MAX_BACKUP_ITERATIONS + 1,
      }),
    ).replace(/=+$/, '');
    const forged = `${header}.AAAA.AAAA.AAAA.AAAA`;
    expect(() => describeBackup(forged)).toThrow(/p2c/);
    await rejects(() => openBackup(forged, PASSPHRASE), 'BACKUP_INVALID');
  });

  test('a short passphrase is refused (BACKUP_PASSPHRASE_WEAK); bad arguments trip their guards', async () => {
    await rejects(() => createBackup(key(), 'short pass'), 'BACKUP_PASSPHRASE_WEAK');
    await rejects(() => createBackup(key(), PASSPHRASE, 10), 'OUT_OF_RANGE');
    await rejects(
      () => createBackup({ ...key(), keyBytes: new Uint8Array(5) }, PASSPHRASE, 1000),
      'OUT_OF_RANGE',
    );
    await rejects(() => openBackup('x', 7 as unknown as string), 'BAD_ARGUMENT');
  });

  test('the key file inside is what the core parses', async () => {
    const opened = await openBackup(await createBackup(key(), PASSPHRASE, 1000), PASSPHRASE);
    expect(opened).toEqual(parseKeyFile(serializeKeyFile(key())));
  });
});
