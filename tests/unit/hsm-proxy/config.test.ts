import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { configFromEnv } from '../../../server/hsm-proxy/src/config';

const dir = mkdtempSync(join(tmpdir(), 'veil-proxy-config-'));
const policyFile = join(dir, 'policy.json');
writeFileSync(policyFile, '{"groups":{"g":["k"]}}');

const base = {
  VEIL_HSM_LIBRARY: '/usr/lib/softhsm/libsofthsm2.so',
  VEIL_HSM_PIN: '1234',
  VEIL_HSM_KEY_LABEL: 'k',
  VEIL_HSM_USER_POOL_ID: 'us-east-1_abc',
  VEIL_HSM_CLIENT_ID: 'client',
  VEIL_HSM_POLICY_FILE: policyFile,
  VEIL_HSM_AUDIT_LOG: join(dir, 'audit.log'),
};

describe('proxy configuration', () => {
  test('defaults to loopback without TLS, with the policy read from its file', () => {
    const config = configFromEnv(base);
    expect(config.host).toBe('127.0.0.1');
    expect(config.tls).toBeUndefined();
    expect(config.policy.groups).toEqual({ g: ['k'] });
    expect(config.hsm.ivSource).toBe('caller');
  });

  test('refuses to serve data keys off loopback without TLS', () => {
    expect(() => configFromEnv({ ...base, VEIL_HSM_HOST: '0.0.0.0' })).toThrow(/only with TLS/);
  });

  test('needs both TLS files or neither', () => {
    expect(() => configFromEnv({ ...base, VEIL_HSM_TLS_CERT: '/x.pem' })).toThrow(/both/);
  });

  test.each(['VEIL_HSM_PIN', 'VEIL_HSM_USER_POOL_ID', 'VEIL_HSM_POLICY_FILE'])(
    'names a missing %s',
    (name) => {
      const env: Record<string, string> = { ...base };
      delete env[name];
      expect(() => configFromEnv(env)).toThrow(name);
    },
  );

  test('refuses bad numbers and IV sources', () => {
    expect(() => configFromEnv({ ...base, VEIL_HSM_SESSIONS: '0' })).toThrow('VEIL_HSM_SESSIONS');
    expect(() => configFromEnv({ ...base, VEIL_HSM_IV_SOURCE: 'random' })).toThrow(
      'VEIL_HSM_IV_SOURCE',
    );
  });
  test('reads trusted proxies and the token age cap, and names malformed ones', () => {
    const config = configFromEnv({
      ...base,
      VEIL_HSM_TRUSTED_PROXIES: '10.0.0.0/24, 10.0.1.7',
      VEIL_HSM_TOKEN_MAX_AGE_SECONDS: '900',
    });
    expect(config.trustedProxies.has('10.0.0.200')).toBe(true);
    expect(config.trustedProxies.has('10.0.2.1')).toBe(false);
    expect(config.auth.maxTokenAgeSeconds).toBe(900);
    expect(configFromEnv(base).auth.maxTokenAgeSeconds).toBe(3600);
    expect(configFromEnv(base).trustedProxies.size).toBe(0);
    expect(() => configFromEnv({ ...base, VEIL_HSM_TRUSTED_PROXIES: 'alb.internal' })).toThrow(
      'VEIL_HSM_TRUSTED_PROXIES',
    );
    expect(() => configFromEnv({ ...base, VEIL_HSM_TOKEN_MAX_AGE_SECONDS: '0' })).toThrow(
      'VEIL_HSM_TOKEN_MAX_AGE_SECONDS',
    );
  });
});
