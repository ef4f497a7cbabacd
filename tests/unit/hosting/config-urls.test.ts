/**
 * Endpoint URLs in config.json (src/aws/config.ts): https everywhere but on this machine, and one
 * exact host, so nothing travels in clear and the content security policy (src/hosting/csp.ts)
 * never widens to hosts nobody configured. Each refusal is CONFIG_INVALID naming the field.
 */
import { describe, expect, test } from 'vitest';
import { parseConfig } from '../../../src/aws/config';
import { VeilError } from '../../../src/core/errors';

const base = { region: 'eu-central-1', bucket: 'acme-veil-files' };
const pool = 'eu-central-1:00000000-0000-0000-0000-000000000000';

function refusal(raw: unknown): VeilError {
  try {
    parseConfig(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(VeilError);
    return error as VeilError;
  }
  throw new Error('parseConfig accepted it');
}

describe('endpoint URLs', () => {
  test('http is refused outside loopback, naming the field', () => {
    const cases: [unknown, string][] = [
      [{ ...base, endpoints: { s3: 'http://s3.example.org' } }, 'endpoints.s3'],
      [{ ...base, endpoints: { kms: 'http://10.0.0.5:4566' } }, 'endpoints.kms'],
      [{ ...base, hsm: { proxyUrl: 'http://hsm.example.org', keyLabel: 'k' } }, 'hsm.proxyUrl'],
      [
        {
          ...base,
          cognito: {
            identityPoolId: pool,
            userPoolId: 'eu-central-1_x',
            userPoolClientId: 'c',
            hostedUi: { domain: 'http://auth.example.org' },
          },
        },
        'cognito.hostedUi.domain',
      ],
      [{ ...base, endpoints: { s3: 'ftp://s3.example.org' } }, 'endpoints.s3'],
    ];
    for (const [raw, field] of cases) {
      const error = refusal(raw);
      expect(error.code).toBe('CONFIG_INVALID');
      expect(error.detail).toMatch(
        new RegExp(`^${field.replace(/\./g, '\\.')}: expected an absolute https URL`),
      );
    }
  });

  test('http on 127.0.0.1, localhost and [::1] is allowed (the local stack)', () => {
    for (const host of ['127.0.0.1:4566', 'localhost:4566', '[::1]:4566']) {
      const config = parseConfig({
        ...base,
        endpoints: { s3: `http://${host}` },
        hsm: { proxyUrl: `http://${host}/`, keyLabel: 'k' },
      });
      expect(config.endpoints.s3).toBe(`http://${host}`);
      expect(config.hsm?.proxyUrl).toBe(`http://${host}`);
    }
    expect(parseConfig({ ...base, endpoints: { s3: 'https://s3.example.org' } }).endpoints.s3).toBe(
      'https://s3.example.org',
    );
  });

  test('a wildcard host is refused, naming the field', () => {
    for (const [raw, field] of [
      [{ ...base, endpoints: { s3: 'https://*.example.org' } }, 'endpoints.s3'],
      [{ ...base, endpoints: { cognitoIdentity: 'https://*' } }, 'endpoints.cognitoIdentity'],
      [{ ...base, hsm: { proxyUrl: 'https://hsm.*.example', keyLabel: 'k' } }, 'hsm.proxyUrl'],
    ] as const) {
      const error = refusal(raw);
      expect(error.code).toBe('CONFIG_INVALID');
      expect(error.detail).toBe(`${field}: expected a URL with one exact host (no wildcard)`);
    }
  });
});
