/**
 * Downloads check the binding with the location's rule ([Note: location binding], [Note: names
 * of the current location]): under 'required' (private names) a swapped object and an unencrypted
 * one are refused with OBJECT_MISMATCH before a byte reaches the save target, which is aborted.
 */
import { describe, expect, test, vi } from 'vitest';
import type { VeilConfig } from '../../../../src/aws/config';
import type { BindingRule } from '../../../../src/core';
import { encryptBytes } from '../../../../src/core/one-shot';
import {
  DownloadItemCore,
  emptyDownloadView,
  type DownloadsDeps,
} from '../../../../src/state/files/downloads-core';
import { ourKeyring, patternBytes, testKeyBytes } from '../../core/helpers';
import { FakeDownloadS3, MemorySink } from '../../transfer/download-fake-s3';

const config: VeilConfig = {
  region: 'us-east-1',
  bucket: 'b',
  prefix: '',
  endpoints: {},
  forcePathStyle: true,
};

/** A sink that counts every write, even those abort() forgets. */
class CountingSink extends MemorySink {
  writes = 0;
  override write(chunk: Uint8Array): Promise<void> {
    this.writes++;
    return super.write(chunk);
  }
}

async function world(rule: BindingRule) {
  const keyring = await ourKeyring(testKeyBytes(256), 'team', 'veil');
  const s3 = new FakeDownloadS3();
  const plain = patternBytes(3000);
  const bound = (key: string) =>
    encryptBytes(plain, { keyring, frameBytes: 1024, location: { bucket: 'b', key } });
  s3.put('a.bin', await bound('a.bin'));
  // The adversary: b.bin's body replaced by a copy of a.bin's (a swap in storage).
  s3.put('b.bin', await bound('a.bin'));
  s3.put('plain.txt', plain);
  const sinks: CountingSink[] = [];
  const deps: DownloadsDeps = {
    chooseTarget: () => {
      const sink = new CountingSink();
      sinks.push(sink);
      return Promise.resolve({ sink, kind: 'blob' });
    },
    s3: () => s3,
    decryptor: () => undefined,
    readKeyring: () => Promise.resolve(keyring),
    vault: { keys: [], load: () => Promise.resolve(), add: () => Promise.reject(new Error('no')) },
    session: { hasIdToken: false },
    bindingRule: () => Promise.resolve(rule),
  };
  const download = async (key: string) => {
    const item = new DownloadItemCore(deps, emptyDownloadView(), {
      key,
      name: key,
      sizeBytes: 3000,
    });
    await item.run(config);
    await vi.waitFor(() => expect(item.active).toBe(false));
    return { view: item.view, sink: sinks.at(-1) };
  };
  return { plain, download };
}

describe('downloads under the location’s binding rule', () => {
  test('required: the object bound to its key downloads', async () => {
    const { plain, download } = await world('required');
    const { view, sink } = await download('a.bin');
    expect(view.phase).toBe('done');
    expect(new Uint8Array(sink?.bytes() ?? [])).toEqual(plain);
  });

  test.each(['required', 'if-present'] as const)(
    '%s: a swapped object is refused with OBJECT_MISMATCH and nothing is written',
    async (rule) => {
      const { download } = await world(rule);
      const { view, sink } = await download('b.bin');
      expect(view).toMatchObject({ phase: 'failed', error: { code: 'OBJECT_MISMATCH' } });
      // Refused by the check, before a place to save was even asked for.
      expect(sink).toBeUndefined();
    },
  );

  test('required: an unencrypted object is refused; if-present saves it as plain', async () => {
    const strict = await world('required');
    const refused = await strict.download('plain.txt');
    expect(refused.view).toMatchObject({ phase: 'failed', error: { code: 'OBJECT_MISMATCH' } });
    expect(refused.sink).toBeUndefined();
    const lax = await world('if-present');
    expect((await lax.download('plain.txt')).view).toMatchObject({ phase: 'done', label: 'plain' });
  });
});
