/**
 * The reactive wrappers of Change protection and Rotate this key on injected deps: the view
 * follows the core through scanning, planning and the run; busy holds while headers are read;
 * Rotate plans only the objects naming the old key under the root, and allows retiring it once
 * they all changed.
 */
import { describe, expect, it } from 'vitest';
import type { VeilConfig } from '../../../../src/aws/config';
import { VeilError, encryptBytes, parseHeaderBytes } from '../../../../src/core';
import type { Keyring } from '../../../../src/core';
import { RawAesKeyring } from '../../../../src/keyrings/raw-aes';
import { modelOfProvider } from '../../../../src/state/files/download-keys';
import type { ProtectionDeps } from '../../../../src/state/files/protection-change-core';
import { ProtectionChange } from '../../../../src/state/files/protection-change.svelte';
import { KeyRotation } from '../../../../src/state/keys/rotate.svelte';
import type { RewrapResult } from '../../../../src/transfer/rewrap-options';
import type { RewrapS3 } from '../../../../src/transfer/rewrap-s3';
import { testKeyBytes } from '../../core/helpers';

const config: VeilConfig = {
  region: 'us-east-1',
  bucket: 'b',
  prefix: 'veil',
  endpoints: {},
  forcePathStyle: true,
};

async function deps(): Promise<ProtectionDeps & { gate: () => void }> {
  const message = async (seed: number, keyName: string) =>
    encryptBytes(new Uint8Array(10), {
      keyring: await RawAesKeyring.fromBytes({
        keyBytes: testKeyBytes(256, seed),
        keyNamespace: 'veil',
        keyName,
      }),
      encryptionContext: {},
    });
  const objects: Record<string, Uint8Array> = {
    'veil/a': await message(1, 'old'),
    'veil/b': await message(2, 'other'),
  };
  let open: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (open = resolve));
  const keyring = { onDecrypt: () => Promise.resolve(undefined) } as unknown as Keyring;
  return {
    gate: () => open(),
    bucket: 'b',
    list: async (prefix) => {
      await held;
      return Object.keys(objects)
        .filter((key) => key.startsWith(prefix))
        .map((key) => ({ key }));
    },
    readHeader: (key) =>
      Promise.resolve({
        kind: 'esdk-framed',
        objectBytes: objects[key]!.length,
        etag: '"e"',
        header: parseHeaderBytes(objects[key]!),
      }),
    rewrapS3: () => ({}) as RewrapS3,
    readKeyring: () => Promise.resolve(keyring),
    writeKeyring: () => keyring,
    addedKey: (key) => ({ providerId: 'veil', keyName: key.keyName }),
    canOpen: () => true,
    modelOf: modelOfProvider,
    rewrap: () =>
      Promise.resolve({ receivedBytes: 1, sentBytes: 1, copiedBytes: 0 } as RewrapResult),
  };
}

describe('ProtectionChange', () => {
  it('follows the core: scanning (busy), choosing, planned, finished', async () => {
    const d = await deps();
    const change = new ProtectionChange(d);
    const opening = change.open({ keys: [], prefixes: ['veil/'] });
    expect(change.view.phase).toBe('scanning');
    expect(change.busy).toBe(true);
    d.gate();
    await opening;
    expect(change.busy).toBe(false);
    expect(change.view.carried.map((key) => key.keyName)).toEqual(['old', 'other']);
    await change.plan({ kind: 'add', add: { model: 'A', keyName: 'new' } });
    expect(change.view.plan?.totals.ready).toBe(2);
    await change.start();
    expect(change.view.phase).toBe('finished');
    change.close();
    expect(change.view.phase).toBe('idle');
  });
});

describe('KeyRotation', () => {
  it('plans only the objects naming the old key under the root, then allows retiring it', async () => {
    const d = await deps();
    d.gate();
    const rotation = new KeyRotation(config, new ProtectionChange(d));
    await rotation.scan({ keyName: 'old', keyNamespace: 'veil' }, 'new');
    expect(rotation.view.phase).toBe('planned');
    expect(rotation.view.plan?.objects.map((object) => object.key)).toEqual(['veil/a']);
    expect(rotation.canRetire).toBe(false);
    await rotation.change.start();
    expect(rotation.canRetire).toBe(true);
  });

  it('a root it cannot name is a shown error', async () => {
    const d = await deps();
    const rotation = new KeyRotation(
      { ...config, prefix: 'users/{identityId}/' },
      new ProtectionChange({ ...d, list: () => Promise.reject(new VeilError('S3_REJECTED')) }),
    );
    await rotation.scan({ keyName: 'old', keyNamespace: 'veil' }, 'new');
    expect(rotation.error?.code).toBe('CREDENTIALS_MISSING');
  });
});
