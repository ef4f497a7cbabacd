/**
 * [Note: key choice]: one resolved key per model, and every user of it (uploads, "Check
 * connection", the KMS key check and self test) works on the same key, a preference included.
 */
import { describe, expect, test } from 'vitest';
import type { AwsClients } from '../../../../src/aws/clients';
import { parseConfig } from '../../../../src/aws/config';
import { VeilError } from '../../../../src/core/errors';
import { KMS_PROVIDER_ID } from '../../../../src/keyrings/kms';
import { RawAesKeyring } from '../../../../src/keyrings/raw-aes';
import {
  PROBE_METADATA,
  runConnectionChecks,
  type CheckS3,
  type ConnectionDeps,
} from '../../../../src/state/settings/connection-checks';
import { chosenVaultKeyName, resolveKeyChoice } from '../../../../src/state/shared/key-choice';
import { keyChoiceOf, writeKeys, type KeyringSources } from '../../../../src/state/shared/keyrings';
import { describeChosenKmsKey, runKmsSelfTest } from '../../../../src/state/settings/kms-self-test';
import {
  DEFAULT_PREFERENCES,
  type PreferenceValues,
} from '../../../../src/state/shared/preference-values';
import { ALIAS, FakeKms, KEY_ARN, OTHER_KEY_ARN } from '../../keyrings/kms-fake';

const config = parseConfig({
  region: 'eu-central-1',
  bucket: 'team-files',
  prefix: '',
  endpoints: {},
  kms: { keyId: ALIAS },
  hsm: { proxyUrl: 'http://127.0.0.1:8787', keyLabel: 'veil-wrap-1' },
});

const vault = { keys: [{ keyName: 'first' }, { keyName: 'second' }] };

describe('resolveKeyChoice', () => {
  test('config.json and the vault decide when there is no preference', () => {
    expect(resolveKeyChoice(config, DEFAULT_PREFERENCES, vault)).toEqual({
      vaultKeyName: 'first',
      hsm: { proxyUrl: 'http://127.0.0.1:8787', keyLabel: 'veil-wrap-1' },
      kmsKeyId: ALIAS,
    });
  });

  test('a preference wins over config.json and the vault', () => {
    const preferences = {
      ...DEFAULT_PREFERENCES,
      vaultKeyId: 'second',
      hsmKeyLabel: 'team-label',
      kmsKeyId: OTHER_KEY_ARN,
    };
    expect(resolveKeyChoice(config, preferences, vault)).toEqual({
      vaultKeyName: 'second',
      hsm: { proxyUrl: 'http://127.0.0.1:8787', keyLabel: 'team-label' },
      kmsKeyId: OTHER_KEY_ARN,
    });
    expect(chosenVaultKeyName(preferences, vault)).toBe('second');
  });

  test('a choice emptied in Settings falls back to config.json', () => {
    const emptied = { ...DEFAULT_PREFERENCES, vaultKeyId: '', hsmKeyLabel: '', kmsKeyId: ' ' };
    expect(resolveKeyChoice(config, emptied, vault)).toEqual(
      resolveKeyChoice(config, DEFAULT_PREFERENCES, vault),
    );
  });

  test('a model without a key gets undefined', () => {
    const bare = parseConfig({ region: 'eu-central-1', bucket: 'b-1', prefix: '', endpoints: {} });
    const preferences = { ...DEFAULT_PREFERENCES, hsmKeyLabel: 'team-label' };
    expect(resolveKeyChoice(bare, preferences, { keys: [] })).toEqual({
      vaultKeyName: undefined,
      hsm: undefined,
      kmsKeyId: undefined,
    });
  });
});

/** The app's sources over a fake KMS, with `preferences` chosen in Settings. */
async function sources(preferences: PreferenceValues, kms = new FakeKms()) {
  const keyring = await RawAesKeyring.fromBytes({
    keyBytes: new Uint8Array(32).fill(7),
    keyName: 'first',
    keyNamespace: 'veil',
  });
  const clients = { kmsApi: () => kms, kmsSupplier: () => () => kms } as unknown as AwsClients;
  const value: KeyringSources = {
    config,
    session: {
      identityId: 'eu-central-1:abcd',
      hasIdToken: true,
      idToken: () => Promise.resolve('id-token'),
      clients: () => clients,
    },
    vault: {
      keys: vault.keys as unknown as KeyringSources['vault']['keys'],
      keyring: (name: string) => {
        if (name !== 'first') throw new VeilError('VAULT_KEY_MISSING', name);
        return keyring;
      },
      keyrings: () => [keyring],
    },
    preferences,
  };
  return { sources: value, kms };
}

/** "Check connection" over the same sources, with a proxy that allows `labels`. */
function checkDeps(from: KeyringSources, kms: FakeKms, labels: string[]): ConnectionDeps {
  const fetcher = (url: string | URL | Request): Promise<Response> => {
    const href = url instanceof Request ? url.url : url.toString();
    if (href.endsWith('/v1/keys')) {
      return Promise.resolve(
        new Response(JSON.stringify({ keys: labels.map((label) => ({ label })) })),
      );
    }
    return Promise.resolve(new Response(JSON.stringify({ status: 'ok', apiVersion: 1 })));
  };
  // The S3 rows are not what this file is about: a bucket that answers everything.
  const s3: CheckS3 = {
    listOne: () => Promise.resolve(),
    putProbe: () => Promise.resolve({ etag: '"e"', checksumCrc32: 'AAAAAA==' }),
    getProbe: () => Promise.resolve({ etag: '"e"', metadata: { ...PROBE_METADATA } }),
    startMultipart: () => Promise.resolve('upload-1'),
    abortMultipart: () => Promise.resolve(),
    deleteProbe: () => Promise.resolve(),
  };
  return {
    config: from.config,
    origin: 'http://127.0.0.1:5173',
    session: {
      state: 'ready',
      identityId: 'eu-central-1:abcd',
      hasIdToken: true,
      idToken: () => Promise.resolve('id-token'),
      credentials: () => Promise.resolve({ accessKeyId: 'ASIAEXAMPLE' }),
      s3: () => s3,
      kms: () => kms,
    },
    keys: keyChoiceOf(from),
    fetch: fetcher,
    randomId: () => 'probe-1',
  };
}

describe('uploads and every check use the same key', () => {
  const preferred = { ...DEFAULT_PREFERENCES, hsmKeyLabel: 'team-label', kmsKeyId: OTHER_KEY_ARN };

  test('Check connection describes the preferred KMS key, the one uploads wrap with', async () => {
    const { sources: from, kms } = await sources(preferred);
    expect(writeKeys('C', from).keyName).toBe(OTHER_KEY_ARN);
    const rows = await runConnectionChecks(checkDeps(from, kms, ['team-label']));
    const described = kms.calls.filter((call) => call.operation === 'describeKey');
    expect(described.map((call) => call.input.KeyId)).toEqual([OTHER_KEY_ARN]);
    expect(rows.find((row) => row.id === 'kms')).toMatchObject({
      status: 'ok',
      detail: expect.stringContaining(OTHER_KEY_ARN) as unknown,
    });
  });

  test('Check connection checks the preferred HSM label, the one uploads wrap with', async () => {
    const { sources: from, kms } = await sources(preferred);
    expect(writeKeys('B', from).keyName).toBe('team-label');
    const allowed = await runConnectionChecks(checkDeps(from, kms, ['team-label']));
    expect(allowed.find((row) => row.id === 'hsm-login')?.status).toBe('ok');
    // The proxy allows only config.json's label: the row must fail for the label uploads use.
    const refused = await runConnectionChecks(checkDeps(from, kms, ['veil-wrap-1']));
    expect(refused.find((row) => row.id === 'hsm-login')).toMatchObject({
      status: 'failed',
      code: 'HSM_FORBIDDEN_LABEL',
      message: expect.stringContaining('team-label') as unknown,
    });
  });

  test('an emptied HSM label uploads and is checked as config.json`s label', async () => {
    const { sources: from, kms } = await sources({ ...DEFAULT_PREFERENCES, hsmKeyLabel: '' });
    expect(writeKeys('B', from).keyName).toBe('veil-wrap-1');
    const rows = await runConnectionChecks(checkDeps(from, kms, ['veil-wrap-1']));
    expect(rows.find((row) => row.id === 'hsm-login')?.status).toBe('ok');
  });

  test('Check KMS key describes the preferred key', async () => {
    const { sources: from, kms } = await sources(preferred);
    expect((await describeChosenKmsKey(from)).arn).toBe(OTHER_KEY_ARN);
    expect(kms.calls.map((call) => call.input.KeyId)).toEqual([OTHER_KEY_ARN]);
  });

  test('the KMS self test wraps with the preferred key and the upload context', async () => {
    const { sources: from, kms } = await sources(preferred);
    const result = await runKmsSelfTest(from, false);
    const generated = kms.calls.filter((call) => call.operation === 'generateDataKey');
    expect(generated.map((call) => call.input.KeyId)).toEqual([OTHER_KEY_ARN]);
    expect(result).toMatchObject({ providerId: KMS_PROVIDER_ID, keyArn: OTHER_KEY_ARN });
    expect(result.encryptionContext).toEqual(writeKeys('C', from).encryptionContext);
  });

  test('without a preference the self test uses config.json`s key', async () => {
    const { sources: from } = await sources(DEFAULT_PREFERENCES);
    expect((await runKmsSelfTest(from, false)).keyArn).toBe(KEY_ARN);
  });
});
