/**
 * The command line's keyrings from its flags (src/cli/keyrings.ts, src/cli/kms.ts), against a
 * loopback fake of KMS's JSON API and of the HSM proxy's: every repeated --kms-key and --hsm-key
 * adds an EDK, and KMS discovery through --endpoint-url without --region signs each call for the
 * region its key ARN names.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cliKeyring, type KeyringFlags } from '../../../src/cli/keyrings';
import { createCliKmsKeyring } from '../../../src/cli/kms';

const ACCOUNT = '111122223333';
const arn = (region: string, keyId: string): string =>
  `arn:aws:kms:${region}:${ACCOUNT}:key/${keyId}`;
const KEY_A = arn('eu-central-1', '1234abcd-12ab-34cd-56ef-1234567890ab');
const KEY_B = arn('eu-central-1', '0987dcba-09fe-87dc-65ba-ab0987654321');
const KEY_WEST = arn('eu-west-1', '11111111-2222-3333-4444-555555555555');

interface Seen {
  /** KMS: `TrentService.<Operation> <region> <KeyId>`; HSM proxy: `<path> <keyLabel>`. */
  readonly calls: string[];
}

const seen: Seen = { calls: [] };
let server: Server;
let url: string;
const savedEnv = { ...process.env };

const b64 = (bytes: number, fill: number): string => Buffer.alloc(bytes, fill).toString('base64');

async function body(request: IncomingMessage): Promise<Record<string, string>> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  // STS (awsQuery) sends a form; KMS and the HSM proxy JSON.
  if (text.startsWith('Action=')) return Object.fromEntries(new URLSearchParams(text));
  return JSON.parse(text || '{}') as Record<string, string>;
}

/** STS GetCallerIdentity's answer: the caller is a user of ACCOUNT. */
const CALLER_XML = `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::${ACCOUNT}:user/tester</Arn><UserId>AIDAEXAMPLE</UserId><Account>${ACCOUNT}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetCallerIdentityResponse>`;

beforeAll(async () => {
  server = createServer((request, response) => {
    void body(request).then((input) => {
      if (input.Action === 'GetCallerIdentity') {
        // STS, asked once by a discovery keyring for the caller's account.
        seen.calls.push('sts.GetCallerIdentity');
        response.writeHead(200, { 'content-type': 'text/xml' });
        response.end(CALLER_XML);
        return;
      }
      const target = request.headers['x-amz-target'];
      if (typeof target === 'string') {
        // KMS (awsJson1_1): the region is in the SigV4 credential scope.
        const region = /Credential=[^/]+\/\d+\/([^/]+)\/kms\//.exec(
          request.headers.authorization ?? '',
        )?.[1];
        seen.calls.push(`${target} ${region ?? '?'} ${input.KeyId ?? ''}`);
        const reply =
          target === 'TrentService.GenerateDataKey'
            ? { KeyId: input.KeyId, Plaintext: b64(32, 1), CiphertextBlob: b64(40, 2) }
            : target === 'TrentService.Encrypt'
              ? { KeyId: input.KeyId, CiphertextBlob: b64(40, 3) }
              : {
                  KeyId: input.KeyId,
                  Plaintext: b64(32, 1),
                  EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
                };
        response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
        response.end(JSON.stringify(reply));
        return;
      }
      // The HSM proxy: a new data key, or the given one wrapped under a label.
      seen.calls.push(`${request.url ?? ''} ${input.keyLabel ?? ''}`);
      const reply =
        request.url === '/v1/data-keys'
          ? { plaintext: b64(32, 4), wrapped: b64(60, 5) }
          : { wrapped: b64(60, 6) };
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(reply));
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  process.env.AWS_ACCESS_KEY_ID = 'AKIDEXAMPLE';
  process.env.AWS_SECRET_ACCESS_KEY = 'secret';
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  for (const name of ['AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_PROFILE']) delete process.env[name];
  process.env.AWS_CONFIG_FILE = '/nonexistent/veil-test-aws-config';
});

afterAll(async () => {
  process.env = savedEnv;
  await new Promise<void>((done) => server.close(() => done()));
});

const flags = (more: Partial<KeyringFlags>): KeyringFlags => ({
  keyFiles: [],
  hsmKeys: [],
  kmsKeys: [],
  ...more,
});

const providerInfos = (edks: readonly { providerInfo: Uint8Array }[]): string[] =>
  edks.map((edk) => new TextDecoder().decode(edk.providerInfo));

describe('repeated key options each add an EDK', () => {
  test('--kms-key A --kms-key B: GenerateDataKey under A, Encrypt under B', async () => {
    seen.calls.length = 0;
    const { keyring, close } = await cliKeyring(
      'encrypt',
      flags({ kmsKeys: [KEY_A, KEY_B], region: 'eu-central-1', endpointUrl: url }),
      {},
    );
    const result = await keyring.onEncrypt({ suiteId: 0x0478, encryptionContext: {} });
    close();
    expect(providerInfos(result.encryptedDataKeys)).toEqual([KEY_A, KEY_B]);
    expect(seen.calls).toEqual([
      `TrentService.GenerateDataKey eu-central-1 ${KEY_A}`,
      `TrentService.Encrypt eu-central-1 ${KEY_B}`,
    ]);
  });

  test('--hsm-key a --hsm-key b: a new data key under a, the same one wrapped under b', async () => {
    seen.calls.length = 0;
    const { keyring, close } = await cliKeyring(
      'encrypt',
      flags({ hsmProxy: url, hsmKeys: ['label-a', 'label-b'] }),
      { VEIL_HSM_TOKEN: 'token' },
    );
    const result = await keyring.onEncrypt({ suiteId: 0x0478, encryptionContext: {} });
    close();
    expect(providerInfos(result.encryptedDataKeys)).toEqual(['label-a', 'label-b']);
    expect(seen.calls).toEqual(['/v1/data-keys label-a', '/v1/data-keys/encrypt label-b']);
  });
});

describe('KMS discovery through --endpoint-url', () => {
  test('without --region, each call is made in the region of its key ARN', async () => {
    seen.calls.length = 0;
    const reader = await createCliKmsKeyring({ endpointUrl: url, env: {} });
    const dataKey = await reader.keyring.onDecrypt({
      suiteId: 0x0478,
      encryptionContext: {},
      encryptedDataKeys: [
        {
          providerId: 'aws-kms',
          providerInfo: new TextEncoder().encode(KEY_WEST),
          ciphertext: new Uint8Array(40),
        },
      ],
    });
    reader.close();
    expect(dataKey).toHaveLength(32);
    // The caller's account is asked first ([Note: the command line's KMS discovery]).
    expect(seen.calls).toEqual([
      'sts.GetCallerIdentity',
      `TrentService.Decrypt eu-west-1 ${KEY_WEST}`,
    ]);
  });

  test("a key of another account than the caller's is never sent to KMS", async () => {
    seen.calls.length = 0;
    const reader = await createCliKmsKeyring({ endpointUrl: url, env: {} });
    const planted = 'arn:aws:kms:eu-west-1:999999999999:key/11111111-2222-3333-4444-555555555555';
    const dataKey = await reader.keyring.onDecrypt({
      suiteId: 0x0478,
      encryptionContext: {},
      encryptedDataKeys: [
        {
          providerId: 'aws-kms',
          providerInfo: new TextEncoder().encode(planted),
          ciphertext: new Uint8Array(40),
        },
      ],
    });
    reader.close();
    expect(dataKey).toBeUndefined();
    expect(seen.calls).toEqual(['sts.GetCallerIdentity']);
  });
});
