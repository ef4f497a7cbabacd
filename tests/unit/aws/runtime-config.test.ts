import { describe, expect, test } from 'vitest';
import { loadConfig, parseConfig } from '../../../src/aws/config';
import { VeilError } from '../../../src/core/errors';

const valid = {
  region: 'eu-central-1',
  bucket: 'team-files.example',
  prefix: 'alice',
  forcePathStyle: true,
  endpoints: { s3: 'http://127.0.0.1:4566/', kms: 'https://kms.eu-central-1.amazonaws.com' },
  cognito: {
    identityPoolId: 'eu-central-1:0f3b8a2c-1111-2222-3333-444455556666',
    userPoolId: 'eu-central-1_abc',
    userPoolClientId: 'client123',
  },
  kms: { keyId: 'alias/veil' },
  hsm: { proxyUrl: 'https://hsm.example.org', keyLabel: 'veil-wrap-1' },
};

function codeAndDetail(raw: unknown): [string, string | undefined] {
  try {
    parseConfig(raw);
  } catch (error) {
    if (error instanceof VeilError) return [error.code, error.detail];
    throw error;
  }
  throw new Error('parseConfig accepted the input');
}

describe('parseConfig', () => {
  test('accepts a full config and normalises prefix and endpoint slashes', () => {
    const config = parseConfig(valid);
    expect(config.prefix).toBe('alice/');
    expect(config.endpoints.s3).toBe('http://127.0.0.1:4566');
    expect(config.cognito?.userPoolClientId).toBe('client123');
    expect(config.hsm).toEqual({ proxyUrl: 'https://hsm.example.org', keyLabel: 'veil-wrap-1' });
  });

  test('fills defaults for a minimal config', () => {
    expect(parseConfig({ region: 'us-east-1', bucket: 'abc' })).toEqual({
      region: 'us-east-1',
      bucket: 'abc',
      prefix: '',
      endpoints: {},
      forcePathStyle: false,
    });
  });

  test.each([
    ['not an object', [], 'config.json'],
    ['region missing', { bucket: 'abc' }, 'region'],
    ['region malformed', { ...valid, region: 'Europe' }, 'region'],
    ['bucket with capitals', { ...valid, bucket: 'My_Bucket' }, 'bucket'],
    ['prefix with a leading slash', { ...valid, prefix: '/x' }, 'prefix'],
    ['endpoint not a URL', { ...valid, endpoints: { s3: 'localhost:4566' } }, 'endpoints.s3'],
    ['endpoint not http(s)', { ...valid, endpoints: { kms: 'ftp://x.test' } }, 'endpoints.kms'],
    ['forcePathStyle not boolean', { ...valid, forcePathStyle: 'yes' }, 'forcePathStyle'],
    [
      'identity pool id malformed',
      { ...valid, cognito: { identityPoolId: 'pool' } },
      'cognito.identityPoolId',
    ],
    [
      'user pool without client',
      { ...valid, cognito: { identityPoolId: valid.cognito.identityPoolId, userPoolId: 'x' } },
      'cognito.userPoolClientId',
    ],
    ['KMS key neither alias nor ARN', { ...valid, kms: { keyId: '1234' } }, 'kms.keyId'],
    ['HSM without proxy URL', { ...valid, hsm: { keyLabel: 'k' } }, 'hsm.proxyUrl'],
    ['HSM without key label', { ...valid, hsm: { proxyUrl: 'https://h.test' } }, 'hsm.keyLabel'],
    ['section of the wrong type', { ...valid, kms: 'alias/veil' }, 'kms'],
    [
      'hosted UI over plain http',
      { ...valid, cognito: { ...valid.cognito, hostedUi: { domain: 'http://auth.example.org' } } },
      'cognito.hostedUi.domain',
    ],
    [
      'hosted UI without a user pool',
      {
        ...valid,
        cognito: {
          identityPoolId: valid.cognito.identityPoolId,
          hostedUi: { domain: 'https://auth.example.org' },
        },
      },
      'cognito.hostedUi',
    ],
    [
      'hosted UI scopes not a list',
      {
        ...valid,
        cognito: {
          ...valid.cognito,
          hostedUi: { domain: 'https://auth.example.org', scopes: 'openid' },
        },
      },
      'cognito.hostedUi.scopes',
    ],
  ])('refuses %s, naming the field', (_name, raw, field) => {
    const [code, detail] = codeAndDetail(raw);
    expect(code).toBe('CONFIG_INVALID');
    expect(detail?.startsWith(`${field}:`)).toBe(true);
  });
});

describe('cognito.hostedUi', () => {
  test('takes a domain, defaults the scopes, keeps the redirect URI exactly', () => {
    const config = parseConfig({
      ...valid,
      cognito: {
        ...valid.cognito,
        hostedUi: {
          domain: 'https://auth.example.org/',
          redirectUri: 'https://app.example.org/',
          identityProvider: 'CorpSSO',
        },
      },
    });
    expect(config.cognito?.hostedUi).toEqual({
      domain: 'https://auth.example.org',
      redirectUri: 'https://app.example.org/',
      scopes: ['openid', 'email', 'profile'],
      identityProvider: 'CorpSSO',
    });
  });

  test('allows http for a loopback domain only', () => {
    const config = parseConfig({
      ...valid,
      cognito: { ...valid.cognito, hostedUi: { domain: 'http://127.0.0.1:9229' } },
    });
    expect(config.cognito?.hostedUi?.domain).toBe('http://127.0.0.1:9229');
  });
});

describe('loadConfig', () => {
  const respond =
    (status: number, body: string): typeof fetch =>
    () =>
      Promise.resolve(new Response(body, { status }));

  test('fetches and validates', async () => {
    await expect(loadConfig(respond(200, JSON.stringify(valid)))).resolves.toMatchObject({
      bucket: 'team-files.example',
    });
  });

  test('reports a missing file as CONFIG_MISSING', async () => {
    await expect(loadConfig(respond(404, ''))).rejects.toMatchObject({
      code: 'CONFIG_MISSING',
      detail: 'HTTP 404',
    });
  });

  test('reports a file that is not JSON as CONFIG_MISSING', async () => {
    await expect(loadConfig(respond(200, '<html>'))).rejects.toMatchObject({
      code: 'CONFIG_MISSING',
    });
  });

  test('reports a wrong field as CONFIG_INVALID', async () => {
    await expect(loadConfig(respond(200, '{"region":"x"}'))).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
    });
  });
});

test('config.example.json is a valid config', async () => {
  const { readFile } = await import('node:fs/promises');
  const example: unknown = JSON.parse(
    await readFile(new URL('../../../config.example.json', import.meta.url), 'utf8'),
  );
  expect(parseConfig(example).bucket).toBe('acme-veil-files');
});
