import { describe, expect, test } from 'vitest';
import { parseConfig } from '../../../../src/aws/config';
import type { KmsApi } from '../../../../src/keyrings/kms-api';
import {
  runConnectionChecks,
  s3EndpointUrl,
  type CheckResult,
  type CheckS3,
  type ConnectionDeps,
} from '../../../../src/state/settings/connection-checks';
import { resolveKeyChoice } from '../../../../src/state/shared/key-choice';
import { DEFAULT_PREFERENCES } from '../../../../src/state/shared/preference-values';
import { corsRuleFor } from '../../../../src/transfer/cors';

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
  metadata: Readonly<Record<string, string>>[];
  gets: string[];
  multipart: string[];
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
  pastedKeys?: boolean;
  config?: ConnectionDeps['config'];
}): { deps: ConnectionDeps; calls: Calls } {
  const calls: Calls = {
    puts: [],
    metadata: [],
    gets: [],
    multipart: [],
    deletes: [],
    lists: [],
    fetches: [],
  };
  const stored = new Map<string, Readonly<Record<string, string>>>();
  const s3: CheckS3 = {
    listOne: (bucket, prefix) => {
      calls.lists.push(`${bucket}/${prefix}`);
      return Promise.resolve();
    },
    putProbe: (_bucket, key, _body, metadata) => {
      calls.puts.push(key);
      calls.metadata.push(metadata);
      stored.set(key, metadata);
      return Promise.resolve({ etag: '"abc"', checksumCrc32: 'AAAAAA==' });
    },
    getProbe: (_bucket, key) => {
      calls.gets.push(key);
      return Promise.resolve({ etag: '"abc"', metadata: stored.get(key) ?? {} });
    },
    startMultipart: (_bucket, key) => {
      calls.multipart.push(`create ${key}`);
      return Promise.resolve('upload-1');
    },
    abortMultipart: (_bucket, key, uploadId) => {
      calls.multipart.push(`abort ${key} ${uploadId}`);
      return Promise.resolve();
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
    pastedKeys: over.pastedKeys ?? false,
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
      config: over.config ?? config,
      origin: ORIGIN,
      session,
      keys: resolveKeyChoice(
        over.config ?? config,
        { ...DEFAULT_PREFERENCES, hsmKeyLabel: over.hsmKeyLabel },
        { keys: [] },
      ),
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
    const probe = 'users/us-east-1:1111/.veil-check/probe-1';
    expect(calls.puts).toEqual([probe]);
    // Every request the engines make: PUT with Veil's metadata, a ranged GET, POST and DELETE.
    expect(calls.metadata).toEqual([{ 'veil-format': 'probe', 'veil-model': 'probe' }]);
    expect(calls.gets).toEqual([probe]);
    expect(calls.multipart).toEqual([`create ${probe}`, `abort ${probe} upload-1`]);
    expect(calls.deletes).toEqual([probe]);
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
    const noKms = deps({ config: { ...config, kms: undefined } }).deps;
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
    expect(s3EndpointUrl({ ...config, endpoints: {}, forcePathStyle: false })).toBe(
      'https://team-files.s3.us-east-1.amazonaws.com/',
    );
  });

  test('the reachability probe goes where the S3 client goes: a configured endpoint, virtual-hosted', async () => {
    const internal = parseConfig({
      region: 'eu-central-1',
      bucket: 'team-files',
      endpoints: { s3: 'https://s3.internal.example' },
    });
    const { deps: d, calls } = deps({
      config: internal,
      s3: { putProbe: () => Promise.reject(networkError()) },
    });
    expect(byId(await runConnectionChecks(d)).cors).toMatchObject({
      code: 'CONNECTION_CORS_BLOCKED',
    });
    expect(calls.fetches.filter((f) => f.mode === 'no-cors').map((f) => f.url)).toEqual([
      'https://team-files.s3.internal.example/',
    ]);
    // China's partition has its own DNS suffix.
    expect(s3EndpointUrl({ ...internal, region: 'cn-north-1', endpoints: {} })).toBe(
      'https://team-files.s3.cn-north-1.amazonaws.com.cn/',
    );
  });

  test('CORS: metadata a ranged GET cannot read fails with the rule, naming the headers', async () => {
    const { deps: d, calls } = deps({
      s3: { getProbe: () => Promise.resolve({ etag: undefined, metadata: {} }) },
    });
    const cors = byId(await runConnectionChecks(d)).cors;
    expect(cors).toMatchObject({ status: 'failed', code: 'UPLOAD_CORS_HEADERS' });
    if (cors?.status !== 'failed') throw new Error('expected a failure');
    expect(cors.message).toContain('ETag, x-amz-meta-veil-format, x-amz-meta-veil-model');
    expect(JSON.parse(cors.fix ?? '[]')).toEqual([corsRuleFor(ORIGIN)]);
    expect(calls.deletes).toHaveLength(1);
  });

  test('CORS: a GET, POST or multipart DELETE the rule blocks is CONNECTION_CORS_BLOCKED naming it, with the rule', async () => {
    const blocked: [string, Partial<CheckS3>][] = [
      ['GetObject', { getProbe: () => Promise.reject(networkError()) }],
      ['CreateMultipartUpload', { startMultipart: () => Promise.reject(networkError()) }],
      ['AbortMultipartUpload', { abortMultipart: () => Promise.reject(networkError()) }],
    ];
    for (const [operation, s3] of blocked) {
      const { deps: d, calls } = deps({ s3 });
      const cors = byId(await runConnectionChecks(d)).cors;
      expect(cors, operation).toMatchObject({ status: 'failed', code: 'CONNECTION_CORS_BLOCKED' });
      if (cors?.status !== 'failed') throw new Error('expected a failure');
      expect(cors.message).toContain(`${operation} from ${ORIGIN}`);
      expect(JSON.parse(cors.fix ?? '[]')).toEqual([corsRuleFor(ORIGIN)]);
      // The probe object is still deleted.
      expect(calls.deletes, operation).toHaveLength(1);
    }
  });

  test('CORS: a refused multipart upload is S3_REJECTED (a permission, not CORS)', async () => {
    const { deps: d } = deps({
      s3: { startMultipart: () => Promise.reject(s3Answer('AccessDenied')) },
    });
    const cors = byId(await runConnectionChecks(d)).cors;
    expect(cors).toMatchObject({
      status: 'failed',
      code: 'S3_REJECTED',
      message: expect.stringContaining('CreateMultipartUpload: AccessDenied') as unknown,
    });
    expect(cors && 'fix' in cors).toBe(false);
  });

  test('CORS: a probe that cannot be deleted fails the row and names the object left behind', async () => {
    const probe = 'users/us-east-1:1111/.veil-check/probe-1';
    const { deps: d } = deps({
      s3: { deleteProbe: () => Promise.reject(s3Answer('AccessDenied')) },
    });
    const cors = byId(await runConnectionChecks(d)).cors;
    expect(cors).toMatchObject({ status: 'failed', code: 'S3_REJECTED' });
    if (cors?.status !== 'failed') throw new Error('expected a failure');
    expect(cors.message).toContain('DeleteObject: AccessDenied');
    expect(cors.message).toContain(`The probe object ${probe} was left in the bucket`);

    // Blocked by CORS: the rule to add, and the object named too.
    const blocked = deps({ s3: { deleteProbe: () => Promise.reject(networkError()) } }).deps;
    const row = byId(await runConnectionChecks(blocked)).cors;
    expect(row).toMatchObject({ status: 'failed', code: 'CONNECTION_CORS_BLOCKED' });
    if (row?.status !== 'failed') throw new Error('expected a failure');
    expect(row.message).toContain(probe);
    expect(row.fix).toBeDefined();
  });

  test('pasted IAM keys: present but not verified by the row itself; S3 verifies them', async () => {
    const pasted = () =>
      Promise.resolve({ accessKeyId: 'AKIAEXAMPLE' }) as Promise<{
        accessKeyId: string;
        expiration?: Date;
      }>;
    const accepted = byId(
      await runConnectionChecks(deps({ pastedKeys: true, credentials: pasted }).deps),
    );
    expect(accepted.credentials).toMatchObject({
      status: 'ok',
      detail: 'Key AKIA… (pasted): accepted by S3 (the bucket check signed a request with it).',
    });

    const refused = deps({
      pastedKeys: true,
      credentials: pasted,
      s3: { listOne: () => Promise.reject(s3Answer('InvalidAccessKeyId')) },
    }).deps;
    const rows = byId(await runConnectionChecks(refused));
    expect(rows.credentials).toMatchObject({ status: 'failed', code: 'CREDENTIALS_INVALID' });
    expect(rows.bucket).toMatchObject({ status: 'failed', code: 'CREDENTIALS_INVALID' });

    // The bucket failing for another reason says nothing about the keys: not claimed verified.
    const missing = deps({
      pastedKeys: true,
      credentials: pasted,
      s3: { listOne: () => Promise.reject(s3Answer('NoSuchBucket')) },
    }).deps;
    expect(byId(await runConnectionChecks(missing)).credentials).toMatchObject({
      status: 'ok',
      detail: expect.stringContaining('present, not verified') as unknown,
    });
  });
});
