/**
 * Node's side of the network specs (wire audit, faults): the known random content the page
 * uploads (tests/e2e/harness/network-entry.ts randomContent) and keyrings that open the stored
 * objects by reaching moto and the HSM proxy directly, not through the proxies under test.
 */
import { KMSClient } from '@aws-sdk/client-kms';
import { createCipheriv } from 'node:crypto';
import { kmsApiFor } from '../../src/aws/clients';
import type { Keyring } from '../../src/core/keyring';
import { HsmProxyKeyring } from '../../src/keyrings/hsm-proxy';
import { KmsKeyring } from '../../src/keyrings/kms';
import { RawAesKeyring } from '../../src/keyrings/raw-aes';

export const LOCAL_CREDENTIALS = {
  accessKeyId: 'veil-local',
  secretAccessKey: 'veil-local-secret',
};

/** `sizeBytes` of the AES-256-CTR keystream of `keyHex` (zero IV): the page's randomContent. */
export function randomContent(sizeBytes: number, keyHex: string): Buffer {
  const cipher = createCipheriv('aes-256-ctr', Buffer.from(keyHex, 'hex'), Buffer.alloc(16));
  return Buffer.concat([cipher.update(Buffer.alloc(sizeBytes)), cipher.final()]);
}

/** Where the services are, reached directly. */
export interface DirectServices {
  readonly motoUrl: string;
  readonly hsmUrl: string;
  readonly idToken: string;
}

/**
 * The keyring that opens an object of `model`: A the raw key (name `audit-key`, namespace
 * `veil`, as the harness uses), B the HSM proxy, C KMS at moto in discovery mode.
 */
export async function directKeyring(
  model: 'A' | 'B' | 'C',
  services: DirectServices,
  rawKey?: Uint8Array,
): Promise<Keyring> {
  if (model === 'A') {
    if (!rawKey) throw new Error('Model A needs the raw key');
    return RawAesKeyring.fromBytes({
      keyBytes: rawKey.slice(),
      keyName: 'audit-key',
      keyNamespace: 'veil',
    });
  }
  if (model === 'B') {
    return new HsmProxyKeyring({ proxyUrl: services.hsmUrl, idToken: () => services.idToken });
  }
  const kms = new KMSClient({
    region: 'us-east-1',
    endpoint: services.motoUrl,
    credentials: LOCAL_CREDENTIALS,
  });
  return new KmsKeyring({ clients: () => kmsApiFor(kms, 'us-east-1'), discovery: true });
}
