import { describe, expect, test } from 'vitest';
import { parseConfig } from '../../../src/aws/config';
import type { KmsApi } from '../../../src/keyrings/kms-api';
import {
  runConnectionChecks,
  s3EndpointUrl,
  type CheckResult,
  type CheckS3,
  type ConnectionDeps,
} from '../../../src/state/connection-checks';

const config = parseConfig({
  region: 'us-east-1',
  bucket: 'team-files',
  prefix: 'users/{identityId}/',
  endpoints: { s3: 'http://127.0.0.1:4566' },
  forcePathStyle: true,
  kms: { keyId: 'alias/veil' },
  hsm: { proxyUrl: 'http://127.0.0.1:8787', keyLabel: 'veil-wrap-1' },
});
const ORIGIN = 'http://127.0.0.1:5173';

/** The SDK's shapes for an answered S3 error and a page-side network failure. */
const s3Answer = (name: string) => Object.assign(new Error(''), { name, $metadata: {} });
const networkError = () => new TypeError('Failed to fetch');

interface Calls {
  puts: string[];
  deletes: string[];
  lists: string[];
  fetches: { url: string; mode: string | undefined }[];
}

function deps(over: {
  s3?: Partial<CheckS3>;
  kmsState?: string;
  health?: () => Promise<Response>;
  labels?: string[];
  reachable?: boolean;
  hasIdToken?: boolean;
  credentials?: () => Promise<{ accessKeyId: string; expiration?: Date }>;
  session?: ConnectionDeps['session'];
  hsmKeyLabel?: string;
}): { deps: ConnectionDeps; calls: Calls } {
  const calls: Calls = { puts: [], deletes: [], lists: [], fetches: [] };
  const s3: CheckS3 = {
    listOne: (bucket, prefix) => {
      calls.lists.push(`${bucket}/${prefix}`);
      return Promise.resolve();
    },
    putProbe: (_bucket, key) => {
      calls.puts.push(key);
      return Promise.resolve({ etag: '"abc"', checksumCrc32: 'AAAAAA==' });
    },
    deleteProbe: (_bucket, key) => {
      calls.deletes.push(key);
      return Promise.resolve();
    },
    ...over.s3,
  };
  const kms = {
    region: 'us-east-1',
    describeKey: () =>
      Promise.resolve({
        KeyMetadata: {
          KeyId: 'k1',
          Arn: 'arn:aws:kms:us-east-1:111122223333:key/k1',
          KeyState: over.kmsState ?? 'Enabled',
        },
      }),
  } as unknown as KmsApi;
  const fetcher = (url: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const href = url instanceof Request ? url.url : url.toString();
    calls.fetches.push({ url: href, mode: init?.mode });
    if (init?.mode === 'no-cors') {
      return over.reachable === false
        ? Promise.reject(networkError())
        : Promise.resolve(new Response(''));
    }
    if (href.endsWith('/v1/health')) {
      return over.health
        ? over.health()
        : Promise.resolve(new Response(JSON.stringify({ status: 'ok', apiVersion: 'v1' })));
    }
    if (href.endsWith('/v1/keys')) {
      return Promise.resolve(
        new Response(
          JSON.stringify({ keys: (over.labels ?? ['veil-wrap-1']).map((label) => ({ label })) }),
        ),
      );
    }
    return Promise.reject(new Error(`unexpected fetch ${href}`));
  };
  const session: ConnectionDeps['session'] = over.session ?? {
    state: 'ready',
    identityId: 'us-east-1:1111',
    hasIdToken: over.hasIdToken ?? true,
    idToken: () => Promise.resolve('id-token'),
    credentials:
      over.credentials ??
      (() =>
        Promise.resolve({
          accessKeyId: 'ASIAEXAMPLE',
          expiration: new Date('2026-01-01T10:20:00Z'),
        })),
    s3: () => s3,
    kms: () => kms,
  };
  return {
    deps: {
      config,
      origin: ORIGIN,
      session,
      hsmKeyLabel: over.hsmKeyLabel,
      kmsKeyId: undefined,
      fetch: fetcher,
      randomId: () => 'probe-1',
    },
    calls,
  };
}

const byId = (rows: CheckResult[]) => Object.fromEntries(rows.map((r) => [r.id, r]));

describe('check connection', () => {
  test('all green: every part says what it checked; the probe goes under the prefix and is deleted', async () => {
    const { deps: d, calls } = deps({});
    const rows = await runConnectionChecks(d);
    expect(rows.map((r) => [r.id, r.status])).toEqual([
      ['credentials', 'ok'],
      ['bucket', 'ok'],
      ['cors', 'ok'],
      ['kms', 'ok'],
      ['hsm-health', 'ok'],
      ['hsm-login', 'ok'],
    ]);
    expect(calls.lists).toEqual(['team-files/users/us-east-1:1111/']);
    expect(calls.puts).toEqual(['users/us-east-1:1111/.veil-check/probe-1']);
    expect(calls.deletes).toEqual(calls.puts);
    const r = byId(rows);
    expect(r.credentials).toMatchObject({ detail: expect.stringContaining('ASIA…') as unknown });
    expect(r.kms).toMatchObject({ detail: expect.stringContaining('Enabled') as unknown });
  });

  test('signed out: credentials fail with CREDENTIALS_MISSING, AWS checks are skipped with the reason', async () => {
    const { deps: d } = deps({ session: { state: 'signed-out' } });
    const r = byId(await runConnectionChecks(d));
    expect(r.credentials).toMatchObject({ status: 'failed', code: 'CREDENTIALS_MISSING' });
    for (const id of ['bucket', 'cors', 'kms']) {
      expect(r[id]).toMatchObject({ status: 'skipped', reason: 'Needs AWS credentials first.' });
    }
    // The proxy's health needs no credentials; its sign-in needs a user.
    expect(r['hsm-health']?.status).toBe('ok');
    expect(r['hsm-login']).toMatchObject({ status: 'skipped' });
  });

  test('a failed sign-in is shown as it failed', async () => {
    const { deps: d } = deps({
      session: { state: 'failed', code: 'LOGIN_FAILED', message: 'Sign-in failed' },
    });
    expect(byId(await runConnectionChecks(d)).credentials).toMatchObject({
      status: 'failed',
      code: 'LOGIN_FAILED',
    });
  });

  test('credentials that cannot be renewed stop the AWS checks', async () => {
    const expired = Object.assign(new Error(''), { name: 'NotAuthorizedException' });
    const { deps: d, calls } = deps({ credentials: () => Promise.reject(expired) });
    const r = byId(await runConnectionChecks(d));
    expect(r.credentials?.status).toBe('failed');
    expect(r.bucket?.status).toBe('skipped');
    expect(calls.puts).toEqual([]);
  });

  test('a missing bucket or a refused listing is S3_REJECTED naming the S3 error', async () => {
    const { deps: d } = deps({ s3: { listOne: () => Promise.reject(s3Answer('NoSuchBucket')) } });
    expect(byId(await runConnectionChecks(d)).bucket).toMatchObject({
      status: 'failed',
      code: 'S3_REJECTED',
      message: expect.stringContaining('ListObjectsV2: NoSuchBucket') as unknown,
    });
  });

  test('CORS: a response without readable ETag or checksum fails with the rule to add', async () => {
    const { deps: d, calls } = deps({
      s3: { putProbe: () => Promise.resolve({ etag: undefined, checksumCrc32: undefined }) },
    });
    const cors = byId(await runConnectionChecks(d)).cors;
    expect(cors).toMatchObject({ status: 'failed', code: 'UPLOAD_CORS_HEADERS' });
    if (cors?.status !== 'failed') throw new Error('expected a failure');
    expect(cors.message).toContain('ETag, x-amz-checksum-crc32');
    const rules = JSON.parse(cors.fix ?? '') as {
      AllowedOrigins: string[];
      ExposeHeaders: string[];
    }[];
    expect(rules[0]?.AllowedOrigins).toEqual([ORIGIN]);
    expect(rules[0]?.ExposeHeaders).toEqual(
      expect.arrayContaining(['ETag', 'x-amz-checksum-crc32']),
    );
    // The probe was still cleaned up.
    expect(calls.deletes).toEqual(['users/us-east-1:1111/.veil-check/probe-1']);
  });

  test('CORS: a blocked request to a reachable endpoint is CONNECTION_CORS_BLOCKED (no-cors probe answers)', async () => {
    const { deps: d, calls } = deps({
      s3: {
        listOne: () => Promise.reject(networkError()),
        putProbe: () => Promise.reject(networkError()),
      },
    });
    const r = byId(await runConnectionChecks(d));
    expect(r.bucket).toMatchObject({ status: 'failed', code: 'CONNECTION_CORS_BLOCKED' });
    expect(r.cors).toMatchObject({ status: 'failed', code: 'CONNECTION_CORS_BLOCKED' });
    expect(r.cors && 'fix' in r.cors ? r.cors.fix : '').toContain(ORIGIN);
    expect(calls.fetches).toContainEqual({
      url: 'http://127.0.0.1:4566/team-files',
      mode: 'no-cors',
    });
  });

  test('an endpoint that does not answer at all is S3_UNREACHABLE, without a CORS rule', async () => {
    const { deps: d } = deps({
      reachable: false,
      s3: { putProbe: () => Promise.reject(networkError()) },
    });
    const cors = byId(await runConnectionChecks(d)).cors;
    expect(cors).toMatchObject({ status: 'failed', code: 'S3_UNREACHABLE' });
    expect(cors && 'fix' in cors).toBe(false);
  });

  test('KMS: a disabled key fails with KMS_KEY_DISABLED; without a key the check is skipped', async () => {
    expect(byId(await runConnectionChecks(deps({ kmsState: 'Disabled' }).deps)).kms).toMatchObject({
      status: 'failed',
      code: 'KMS_KEY_DISABLED',
    });
    const { deps: d } = deps({});
    const noKms = { ...d, config: { ...config, kms: undefined } };
    expect(byId(await runConnectionChecks(noKms)).kms?.status).toBe('skipped');
  });

  test('HSM proxy: down is HSM_PROXY_UNREACHABLE, degraded is HSM_BUSY', async () => {
    const down = deps({ health: () => Promise.reject(networkError()) }).deps;
    expect(byId(await runConnectionChecks(down))['hsm-health']).toMatchObject({
      code: 'HSM_PROXY_UNREACHABLE',
    });
    const degraded = deps({
      health: () => Promise.resolve(new Response('{"status":"degraded"}', { status: 503 })),
    }).deps;
    expect(byId(await runConnectionChecks(degraded))['hsm-health']).toMatchObject({
      code: 'HSM_BUSY',
    });
  });

  test('HSM sign-in: skipped for guests; a chosen label the proxy does not allow is HSM_FORBIDDEN_LABEL', async () => {
    const guest = deps({ hasIdToken: false }).deps;
    expect(byId(await runConnectionChecks(guest))['hsm-login']).toMatchObject({
      status: 'skipped',
      reason: expect.stringContaining('user account') as unknown,
    });
    const other = deps({ labels: ['other'], hsmKeyLabel: 'mine' }).deps;
    expect(byId(await runConnectionChecks(other))['hsm-login']).toMatchObject({
      status: 'failed',
      code: 'HSM_FORBIDDEN_LABEL',
    });
  });

  test('the S3 endpoint for the reachability probe', () => {
    expect(s3EndpointUrl({ ...config, endpoints: {} })).toBe(
      'https://team-files.s3.us-east-1.amazonaws.com/',
    );
  });
});
