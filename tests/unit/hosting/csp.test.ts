/**
 * The content security policy built from a config (see [Note: content security policy]): the
 * exact directives, the sources for each kind of deployment, and, for the real AWS SDK clients
 * the app builds (src/aws/clients.ts), that every request they would send falls inside the
 * policy and a different bucket or region does not.
 */
import { GetIdCommand } from '@aws-sdk/client-cognito-identity';
import { InitiateAuthCommand } from '@aws-sdk/client-cognito-identity-provider';
import { GenerateDataKeyCommand } from '@aws-sdk/client-kms';
import {
  CreateMultipartUploadCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { describe, expect, test } from 'vitest';
import { AwsClients } from '../../../src/aws/clients';
import { parseConfig, type VeilConfig } from '../../../src/aws/config';
import {
  CLOUDFRONT_CSP_MAX_CHARS,
  connectOnlyPolicy,
  connectSources,
  contentSecurityPolicy,
  metaPolicy,
  s3BucketUrl,
} from '../../../src/hosting/csp';

const CREDENTIALS = { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret' };

const team = parseConfig({
  region: 'eu-central-1',
  bucket: 'acme-veil-files',
  prefix: 'users/{identityId}/',
  targets: [{ region: 'us-west-2', bucket: 'acme-veil-archive', label: 'Archive' }],
  cognito: {
    identityPoolId: 'eu-central-1:00000000-0000-0000-0000-000000000000',
    userPoolId: 'eu-west-1_Example',
    userPoolClientId: 'exampleclientid',
    hostedUi: { domain: 'https://acme-veil.auth.eu-west-1.amazoncognito.com' },
  },
  kms: { keyId: 'arn:aws:kms:eu-west-3:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab' },
  hsm: { proxyUrl: 'https://hsm.acme.example/veil', keyLabel: 'veil-wrap-1' },
});

const local = parseConfig({
  region: 'us-east-1',
  bucket: 'veil-demo',
  forcePathStyle: true,
  endpoints: {
    s3: 'http://127.0.0.1:4566',
    kms: 'http://127.0.0.1:4566',
    cognitoIdentity: 'http://127.0.0.1:4566',
    cognitoIdentityProvider: 'http://127.0.0.1:4566',
  },
  cognito: { identityPoolId: 'us-east-1:abc', userPoolId: 'us-east-1_x', userPoolClientId: 'c' },
  kms: { keyId: 'alias/veil-demo' },
  hsm: { proxyUrl: 'http://127.0.0.1:8787', keyLabel: 'veil-wrap-1' },
});

/** CSP source matching (CSP3 "does url match expression"), for the forms csp.ts writes. */
function matches(url: string, expression: string): boolean {
  const target = new URL(url);
  const found = /^(https?):\/\/([^/:]+)(?::(\d+|\*))?(\/.*)?$/.exec(expression);
  if (!found) return false;
  const [, scheme, host, port, path] = found;
  if (target.protocol !== `${scheme}:` || target.hostname !== host) return false;
  const defaultPort = scheme === 'https' ? '443' : '80';
  if (port !== '*' && (target.port || defaultPort) !== (port ?? defaultPort)) return false;
  if (!path) return true;
  return path.endsWith('/') ? target.pathname.startsWith(path) : target.pathname === path;
}

function allowed(config: VeilConfig, url: string): boolean {
  return connectSources(config).some((expression) => matches(url, expression));
}

/** The URL an SDK command would be sent to, captured before it leaves. */
async function urlOf(
  client: { middlewareStack: { add: (...args: never[]) => void }; send: (c: never) => unknown },
  command: unknown,
): Promise<string> {
  let url = '';
  const capture = () => (args: { request: unknown }) => {
    const request = args.request as {
      protocol: string;
      hostname: string;
      port?: number;
      path: string;
    };
    url = `${request.protocol}//${request.hostname}${request.port ? `:${request.port}` : ''}${request.path}`;
    return Promise.reject(new Error('captured'));
  };
  (client.middlewareStack.add as (m: unknown, o: unknown) => void)(capture, {
    step: 'finalizeRequest',
    priority: 'high',
    // One capture per client: a later one replaces the earlier.
    name: 'veilCaptureUrl',
    override: true,
  });
  await expect(
    (client.send as (c: unknown) => Promise<unknown>).call(client, command),
  ).rejects.toThrow('captured');
  return url;
}

/** The URLs of the S3, KMS and Cognito requests the app makes for `config`. */
async function requestUrls(config: VeilConfig, bucket = config.bucket): Promise<string[]> {
  const clients = new AwsClients(config, CREDENTIALS);
  const urls = [
    await urlOf(clients.s3(), new PutObjectCommand({ Bucket: bucket, Key: 'a/b.veil', Body: 'x' })),
    await urlOf(clients.s3(), new ListObjectsV2Command({ Bucket: bucket, Prefix: 'a/' })),
    await urlOf(clients.s3(), new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'k' })),
    await urlOf(
      clients.s3(),
      new UploadPartCommand({ Bucket: bucket, Key: 'k', UploadId: 'u', PartNumber: 1, Body: 'x' }),
    ),
  ];
  if (config.cognito) {
    urls.push(
      await urlOf(
        clients.cognitoIdentity(config.cognito.identityPoolId),
        new GetIdCommand({ IdentityPoolId: config.cognito.identityPoolId }),
      ),
    );
    if (config.cognito.userPoolId) {
      urls.push(
        await urlOf(
          clients.cognitoIdentityProvider(config.cognito.userPoolId),
          new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: 'c' }),
        ),
      );
    }
  }
  clients.destroy();
  return urls;
}

describe('contentSecurityPolicy', () => {
  test('writes exactly the strict directives, connect-src from the config', () => {
    expect(contentSecurityPolicy(local, { configUrl: 'http://127.0.0.1:5173/config.json' })).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; worker-src 'self'; " +
        'connect-src http://127.0.0.1:5173/config.json http://127.0.0.1:4566/veil-demo ' +
        'http://127.0.0.1:4566/veil-demo/ http://127.0.0.1:4566 http://127.0.0.1:8787/; ' +
        "img-src 'self' blob:; media-src blob:; frame-src blob:; base-uri 'none'; " +
        "form-action 'none'; frame-ancestors 'none'; object-src 'none'",
    );
  });

  test('blob: is allowed only where the preview shows authenticated plaintext', () => {
    const policy = contentSecurityPolicy(local);
    const directive = (name: string): string | undefined =>
      policy
        .split('; ')
        .find((part) => part.startsWith(`${name} `))
        ?.slice(name.length + 1);
    expect(directive('img-src')).toBe("'self' blob:");
    expect(directive('media-src')).toBe('blob:');
    expect(directive('frame-src')).toBe('blob:');
    // Script, workers, styles, connections and plugins never come from a blob: or data: URL.
    for (const name of ['script-src', 'worker-src', 'style-src', 'connect-src', 'object-src']) {
      expect(directive(name)).not.toMatch(/blob:|data:|\*/);
    }
    expect(policy).not.toContain('data:');
  });

  test('names each target, KMS per region, Cognito per pool region, the token endpoint, the proxy', () => {
    expect(connectSources(team)).toEqual([
      'https://acme-veil-files.s3.eu-central-1.amazonaws.com',
      'https://acme-veil-archive.s3.us-west-2.amazonaws.com',
      'https://kms.eu-central-1.amazonaws.com',
      'https://kms.us-west-2.amazonaws.com',
      'https://kms.eu-west-3.amazonaws.com',
      'https://cognito-identity.eu-central-1.amazonaws.com',
      'https://cognito-idp.eu-west-1.amazonaws.com',
      'https://acme-veil.auth.eu-west-1.amazoncognito.com/oauth2/token',
      'https://hsm.acme.example/veil/',
    ]);
    expect(contentSecurityPolicy(team)).toContain("connect-src 'self' https://acme-veil-files.");
  });

  test('a bucket name with dots is reached path-style, confined to the bucket', () => {
    const dotted = parseConfig({ region: 'eu-central-1', bucket: 'files.acme.example' });
    expect(connectSources(dotted)).toEqual([
      'https://s3.eu-central-1.amazonaws.com/files.acme.example',
      'https://s3.eu-central-1.amazonaws.com/files.acme.example/',
    ]);
  });

  test('China regions use their own DNS suffix', () => {
    const china = parseConfig({ region: 'cn-north-1', bucket: 'acme', kms: { keyId: 'alias/x' } });
    expect(connectSources(china)).toEqual([
      'https://acme.s3.cn-north-1.amazonaws.com.cn',
      'https://kms.cn-north-1.amazonaws.com.cn',
    ]);
  });

  test('refuses an endpoint a policy cannot carry', () => {
    const bad = parseConfig({ region: 'eu-central-1', bucket: 'acme' });
    bad.hsm = { proxyUrl: 'https://hsm.example/a;b', keyLabel: 'k' };
    expect(() => contentSecurityPolicy(bad)).toThrow(TypeError);
  });

  test('refuses a wildcard host, even from a config that skipped parseConfig (infra values)', () => {
    const bad = parseConfig({ region: 'eu-central-1', bucket: 'acme' });
    bad.hsm = { proxyUrl: 'https://*.example.org', keyLabel: 'k' };
    expect(() => contentSecurityPolicy(bad)).toThrow(TypeError);
    const s3 = parseConfig({ region: 'eu-central-1', bucket: 'acme' });
    s3.endpoints = { kms: 'https://*' };
    s3.kms = { keyId: 'alias/x' };
    expect(() => connectSources(s3)).toThrow(TypeError);
  });

  test('a team configuration fits CloudFront’s header limit', () => {
    expect(contentSecurityPolicy(team).length).toBeLessThan(CLOUDFRONT_CSP_MAX_CHARS);
  });

  test('the meta policies: every strict directive but frame-ancestors, then connect-src only', () => {
    expect(metaPolicy()).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; worker-src 'self'; " +
        "connect-src 'self' https: http://127.0.0.1:* http://localhost:*; img-src 'self' blob:; " +
        "media-src blob:; frame-src blob:; base-uri 'none'; form-action 'none'; object-src 'none'",
    );
    expect(connectOnlyPolicy(team)).toBe(`connect-src ${connectSources(team).join(' ')}`);
  });
});

describe('the SDK clients the app builds stay inside the policy', () => {
  test.each([
    ['AWS, eu-central-1', team, true],
    ['AWS, us-east-1', parseConfig({ region: 'us-east-1', bucket: 'acme-east' }), true],
    [
      'AWS, dotted bucket',
      parseConfig({ region: 'eu-west-1', bucket: 'files.acme.example' }),
      true,
    ],
    // moto serves KMS and Cognito at its root, so its whole origin is listed.
    ['local stack', local, false],
  ])('%s', async (_name, config, confinesBucket) => {
    const urls = await requestUrls(config);
    expect(urls.length).toBeGreaterThanOrEqual(4);
    for (const url of urls) expect(allowed(config, url), url).toBe(true);
    for (const url of (await requestUrls(config, 'someone-elses-bucket')).slice(0, 4)) {
      expect(allowed(config, url), url).toBe(!confinesBucket);
    }
  });

  test.each([
    ['AWS, virtual-hosted', parseConfig({ region: 'eu-central-1', bucket: 'acme-veil-files' })],
    ['AWS China', parseConfig({ region: 'cn-north-1', bucket: 'acme-veil-files' })],
    ['AWS, dotted bucket', parseConfig({ region: 'eu-west-1', bucket: 'files.acme.example' })],
    [
      'an endpoint, virtual-hosted',
      parseConfig({
        region: 'us-east-1',
        bucket: 'acme',
        endpoints: { s3: 'https://s3.internal.example' },
      }),
    ],
    ['local stack, path-style', local],
  ])(
    'the bucket URL (the no-cors reachability probe) is the SDK’s and inside the policy: %s',
    async (_name, config) => {
      const url = s3BucketUrl(config);
      expect(allowed(config, url), url).toBe(true);
      const clients = new AwsClients(config, CREDENTIALS);
      const list = new URL(
        await urlOf(clients.s3(), new ListObjectsV2Command({ Bucket: config.bucket })),
      );
      clients.destroy();
      const sdk = `${list.origin}${list.pathname}`;
      // Path-style: the SDK lists at `/bucket`, or `/bucket/`; virtual-hosted: at `/`.
      expect([sdk, `${sdk}/`]).toContain(url.endsWith('/') ? url : `${url}/`);
    },
  );

  test('KMS in the key’s region and each target’s, and not elsewhere', async () => {
    const clients = new AwsClients(team, CREDENTIALS);
    const input = { KeyId: 'alias/x', KeySpec: 'AES_256' as const };
    for (const region of ['eu-central-1', 'us-west-2', 'eu-west-3']) {
      const client = clients.kms(region);
      if (!client) throw new Error(`no KMS client for ${region}`);
      expect(allowed(team, await urlOf(client, new GenerateDataKeyCommand(input)))).toBe(true);
    }
    const other = clients.kms('ap-south-1');
    if (!other) throw new Error('no KMS client for ap-south-1');
    expect(allowed(team, await urlOf(other, new GenerateDataKeyCommand(input)))).toBe(false);
    clients.destroy();
  });
});
