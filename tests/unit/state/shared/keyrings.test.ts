import { describe, expect, test } from 'vitest';
import { parseConfig } from '../../../../src/aws/config';
import { VeilError } from '../../../../src/core/errors';
import { RawAesKeyring } from '../../../../src/keyrings/raw-aes';
import { HsmProxyKeyring } from '../../../../src/keyrings/hsm-proxy';
import { KmsKeyring } from '../../../../src/keyrings/kms';
import { readKeyring, writeKeys, type KeyringSources } from '../../../../src/state/shared/keyrings';
import {
  DEFAULT_PREFERENCES,
  parsePreferences,
} from '../../../../src/state/shared/preference-values';
import { badgeLabel, badgeOf, protectionStatement } from '../../../../src/state/shared/protection';
import type { AwsClients } from '../../../../src/aws/clients';

const config = parseConfig({
  region: 'eu-central-1',
  bucket: 'team-files.example',
  prefix: '',
  forcePathStyle: false,
  endpoints: {},
  kms: { keyId: 'alias/veil' },
  hsm: { proxyUrl: 'https://hsm.example.org', keyLabel: 'veil-wrap-1' },
});

async function vaultKeyring(name: string): Promise<RawAesKeyring> {
  return RawAesKeyring.fromBytes({
    keyBytes: new Uint8Array(32).fill(7),
    keyName: name,
    keyNamespace: 'veil',
  });
}

async function sources(over: Partial<KeyringSources> = {}): Promise<KeyringSources> {
  const keyring = await vaultKeyring('team-key');
  return {
    config,
    session: {
      identityId: 'eu-central-1:abcd',
      hasIdToken: true,
      idToken: () => Promise.resolve('token'),
      clients: () => ({ kmsSupplier: () => () => undefined }) as unknown as AwsClients,
    },
    vault: {
      keys: [{ keyName: 'team-key' }] as unknown as KeyringSources['vault']['keys'],
      keyring: (name: string) => {
        if (name !== 'team-key') throw new VeilError('VAULT_KEY_MISSING', name);
        return keyring;
      },
      keyrings: () => [keyring],
    },
    preferences: DEFAULT_PREFERENCES,
    ...over,
  };
}

function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof VeilError) return error.code;
    throw error;
  }
  throw new Error('did not throw');
}

describe('writeKeys', () => {
  test('each model gets its keyring and the same name-free context', async () => {
    const s = await sources();
    const a = writeKeys('A', s);
    const b = writeKeys('B', s);
    const c = writeKeys('C', s);
    expect(a.keyring).toBeInstanceOf(RawAesKeyring);
    expect(a.keyName).toBe('team-key');
    expect(b.keyring).toBeInstanceOf(HsmProxyKeyring);
    expect(b.keyName).toBe('veil-wrap-1');
    expect(c.keyring).toBeInstanceOf(KmsKeyring);
    expect(c.keyName).toBe('alias/veil');
    for (const keys of [a, b, c]) {
      expect(keys.encryptionContext).toEqual(c.encryptionContext);
      expect(Object.values(keys.encryptionContext)).toContain('team-files.example');
      expect(Object.values(keys.encryptionContext)).toContain('eu-central-1:abcd');
    }
  });

  test('preferences choose the key; config.json is the fallback', async () => {
    const s = await sources({
      preferences: { ...DEFAULT_PREFERENCES, hsmKeyLabel: 'other-label', kmsKeyId: 'alias/x' },
    });
    expect(writeKeys('B', s).keyName).toBe('other-label');
    expect(writeKeys('C', s).keyName).toBe('alias/x');
  });

  test('missing pieces are catalogued errors', async () => {
    const empty = await sources();
    const noVault = {
      ...empty,
      vault: { keys: [], keyring: empty.vault.keyring, keyrings: () => [] },
    };
    expect(codeOf(() => writeKeys('A', noVault))).toBe('VAULT_KEY_MISSING');
    const gone = await sources({ preferences: { ...DEFAULT_PREFERENCES, vaultKeyId: 'gone' } });
    expect(codeOf(() => writeKeys('A', gone))).toBe('VAULT_KEY_MISSING');
    const guest = await sources();
    const noToken = { ...guest, session: { ...guest.session, hasIdToken: false } };
    expect(codeOf(() => writeKeys('B', noToken))).toBe('HSM_UNAUTHENTICATED');
    const bare = parseConfig({ region: 'eu-central-1', bucket: 'b-1', prefix: '', endpoints: {} });
    const unconfigured = await sources({ config: bare });
    expect(codeOf(() => writeKeys('B', unconfigured))).toBe('MODEL_NOT_CONFIGURED');
    expect(codeOf(() => writeKeys('C', unconfigured))).toBe('MODEL_NOT_CONFIGURED');
  });
});

describe('parsePreferences', () => {
  test('reads what was stored and falls back field by field', () => {
    const stored = JSON.stringify({
      model: 'C',
      vaultKeyId: 'k',
      hsmKeyLabel: '',
      kmsKeyId: 'alias/a',
      atRest: { type: 'SSE-KMS', kmsKeyId: 'alias/b' },
      privateNames: ['b/team/', 7, ''],
      padding: ['b/team/', null],
    });
    expect(parsePreferences(stored)).toEqual({
      model: 'C',
      vaultKeyId: 'k',
      hsmKeyLabel: undefined,
      kmsKeyId: 'alias/a',
      atRest: { type: 'SSE-KMS', kmsKeyId: 'alias/b' },
      privateNames: ['b/team/'],
      padding: ['b/team/'],
    });
    expect(parsePreferences('{"model":"Z","atRest":{"type":"SSE-C"}}')).toEqual(
      DEFAULT_PREFERENCES,
    );
    expect(parsePreferences('not json')).toEqual(DEFAULT_PREFERENCES);
    expect(parsePreferences(null)).toEqual(DEFAULT_PREFERENCES);
  });
});

describe('protection', () => {
  test('badges come from metadata and SSE', () => {
    expect(badgeOf({ 'veil-format': 'esdk-v2-0478-framed', 'veil-model': 'B' })).toEqual({
      kind: 'model',
      model: 'B',
    });
    expect(badgeOf({ 'veil-format': 'esdk-v2-0478-framed' })).toEqual({ kind: 'esdk' });
    expect(badgeOf({ 'veil-format': 'plain' }, 'aws:kms')).toEqual({
      kind: 'sse-only',
      sse: 'aws:kms',
    });
    expect(badgeOf({ 'veil-format': 'plain' })).toEqual({ kind: 'none' });
    expect(badgeOf(undefined)).toEqual({ kind: 'unknown' });
    expect(badgeLabel(badgeOf({ 'veil-format': 'plain' }, 'AES256'))).toBe('SSE-S3 only');
  });

  test('statements say who can read the file', () => {
    expect(protectionStatement({ kind: 'client-side', model: 'A' })).toMatch(/only ciphertext/);
    expect(
      protectionStatement({ kind: 'client-side', model: 'C', atRest: { type: 'SSE-S3' } }),
    ).toMatch(/SSE-S3/);
    expect(protectionStatement({ kind: 'server-side', atRest: { type: 'SSE-S3' } })).toMatch(
      /not zero knowledge/,
    );
    expect(protectionStatement({ kind: 'none' })).toMatch(/not zero knowledge/);
  });
});

describe('readKeyring', () => {
  test('a KMS lookup failure leaves KMS out instead of failing Model A downloads', async () => {
    const base = await sources({
      config: parseConfig({
        region: 'eu-central-1',
        bucket: 'team-files.example',
        prefix: '',
        endpoints: {},
        kms: { keyId: 'alias/veil' },
      }),
    });
    const denied = {
      ...base,
      session: {
        ...base.session,
        // DescribeKey cannot run: no KMS client for the region.
        clients: () =>
          ({
            kmsApi: () => undefined,
            kmsSupplier: () => () => undefined,
          }) as unknown as AwsClients,
      },
    };
    const keyring = await readKeyring(denied);
    expect(keyring).toBeDefined();
    // The vault key still opens what it wrapped.
    const [vaultKey] = base.vault.keyrings();
    if (!vaultKey || !keyring) throw new Error('keyrings missing');
    const written = await vaultKey.onEncrypt({ encryptionContext: {}, suiteId: 0x0478 });
    const opened = await keyring.onDecrypt({
      encryptionContext: {},
      encryptedDataKeys: written.encryptedDataKeys,
      suiteId: 0x0478,
    });
    expect(opened).toEqual(written.dataKey);
  });
});
