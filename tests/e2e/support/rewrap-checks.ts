/**
 * Checks the protection-change specs run in Node on what the browser left in S3: a Model A key
 * as Veil's keyring and as client-node's (the official reader), and the bytes after a message's
 * header (which a rewrap must not touch).
 */
import {
  CommitmentPolicy,
  RawAesKeyringNode,
  RawAesWrappingSuiteIdentifier,
  buildClient,
} from '@aws-crypto/client-node';
import { parseHeaderBytes } from '../../../src/core/message';
import { RawAesKeyring } from '../../../src/keyrings/raw-aes';

/** A vault key as a spec imports it. */
export interface TestKey {
  readonly keyName: string;
  readonly keyBytes: Uint8Array;
}

/** The official reader, requiring key commitment as Veil does. */
export const peer = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);

/** `key` as Veil's raw AES keyring. */
export const ours = (key: TestKey): Promise<RawAesKeyring> =>
  RawAesKeyring.fromBytes({
    keyBytes: key.keyBytes.slice(),
    keyName: key.keyName,
    keyNamespace: 'veil',
  });

/** `key` as client-node's raw AES keyring. */
export const theirs = (key: TestKey): RawAesKeyringNode =>
  new RawAesKeyringNode({
    keyName: key.keyName,
    keyNamespace: 'veil',
    unencryptedMasterKey: key.keyBytes.slice(),
    wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
    utf8Sorting: true,
  });

/** The bytes after the header. */
export function bodyAfterHeader(message: Uint8Array): Uint8Array {
  return message.subarray(parseHeaderBytes(message.subarray(0, 64 * 1024)).headerBytes);
}
