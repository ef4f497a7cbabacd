/**
 * A version's download ([Note: a version's download] in versions.svelte.ts): the downloads' own
 * logic (DownloadItemCore) with only its S3 seam pinned to one version. The older version saves
 * its own bytes, not the current one's; a version that storage swapped in from another file is
 * refused with OBJECT_MISMATCH at the check, before the save dialog opens.
 */
import { describe, expect, it } from 'vitest';
import type { VeilConfig } from '../../../../src/aws/config';
import { encryptBytes } from '../../../../src/core/one-shot';
import {
  DownloadItemCore,
  emptyDownloadView,
  type DownloadsDeps,
} from '../../../../src/state/files/downloads-core';
import { ourKeyring, patternBytes, testKeyBytes } from '../../core/helpers';
import { MemorySink } from '../../transfer/download-fake-s3';
import { FakeVersionedBucket } from './versions-fake-s3';

const KEY = 'docs/a.txt';
const config: VeilConfig = {
  region: 'us-east-1',
  bucket: 'b',
  prefix: '',
  endpoints: {},
  forcePathStyle: true,
};

async function world() {
  const keyring = await ourKeyring(testKeyBytes(256), 'team', 'veil');
  const bucket = new FakeVersionedBucket();
  const seal = (plain: Uint8Array, key = KEY) =>
    encryptBytes(plain, { keyring, frameBytes: 1024, location: { bucket: 'b', key } });
  const sinks: MemorySink[] = [];
  const download = async (versionId: string) => {
    const deps: DownloadsDeps = {
      chooseTarget: () => {
        const sink = new MemorySink();
        sinks.push(sink);
        return Promise.resolve({ sink, kind: 'blob' });
      },
      s3: () => bucket.s3().downloadS3(versionId),
      decryptor: () => undefined,
      readKeyring: () => Promise.resolve(keyring),
      vault: {
        keys: [],
        load: () => Promise.resolve(),
        add: () => Promise.reject(new Error('no')),
      },
      session: { hasIdToken: false },
      bindingRule: () => Promise.resolve('required'),
    };
    const item = new DownloadItemCore(deps, emptyDownloadView(), {
      key: KEY,
      name: 'a.txt',
      sizeBytes: 0,
    });
    await item.run(config);
    return item.view;
  };
  return { bucket, seal, sinks, download };
}

describe('a version’s download', () => {
  it('saves the older version’s own bytes through the downloads’ logic', async () => {
    const { bucket, seal, sinks, download } = await world();
    const v1 = bucket.put(KEY, await seal(patternBytes(5000, 1)));
    bucket.put(KEY, await seal(patternBytes(7000, 2)));
    const view = await download(v1);
    expect(view.phase).toBe('done');
    expect(view.label).toBe('decrypted');
    expect(sinks).toHaveLength(1);
    expect(sinks[0]?.closed).toBe(true);
    expect(Buffer.from(sinks[0]!.bytes()).equals(Buffer.from(patternBytes(5000, 1)))).toBe(true);
  });

  it('refuses a swapped version at the check, before asking where to save', async () => {
    const { bucket, seal, sinks, download } = await world();
    bucket.put(KEY, await seal(patternBytes(5000, 1)));
    const swapped = bucket.put(KEY, await seal(patternBytes(5000, 9), 'docs/other.txt'));
    bucket.put(KEY, await seal(patternBytes(5000, 1)));
    const view = await download(swapped);
    expect(view.phase).toBe('failed');
    expect(view.error?.code).toBe('OBJECT_MISMATCH');
    expect(sinks).toEqual([]);
  });
});
