/**
 * A "Download as ZIP" (src/state/files/zip-core.ts) over the real download engine and a fake S3:
 * every file is checked before the save target is asked for; a file no key opens fails naming it
 * with nothing asked; a tampered body stops the ZIP and aborts the target; a cancel ends as
 * cancelled; a good selection ends with every file in the ZIP.
 */
import { describe, expect, test, vi } from 'vitest';
import type { VeilConfig } from '../../../../src/aws/config';
import { encryptBytes } from '../../../../src/core/one-shot';
import type { Row } from '../../../../src/state/files/listing';
import { ZipCore, emptyZipView, type ZipDeps } from '../../../../src/state/files/zip-core';
import { ourKeyring, patternBytes, testKeyBytes } from '../../core/helpers';
import { FakeDownloadS3, MemorySink } from '../../transfer/download-fake-s3';

const config: VeilConfig = {
  region: 'us-east-1',
  bucket: 'b',
  prefix: '',
  endpoints: {},
  forcePathStyle: true,
};

const fileRow = (key: string): Row => ({
  kind: 'file',
  key,
  name: key.split('/').at(-1)!,
  sizeBytes: 1,
  lastModifiedMs: undefined,
  etag: undefined,
});
const folderRow = (prefix: string): Row => ({
  kind: 'folder',
  prefix,
  name: prefix.split('/').at(-2)!,
});

/** A bucket with `docs/a.txt`, `docs/b.txt` and `docs/sub/c.txt` under the "team" key. */
async function setup(options: { otherKey?: string; tamper?: string; needsClick?: boolean } = {}) {
  const s3 = new FakeDownloadS3();
  const team = await ourKeyring(testKeyBytes(256), 'team', 'veil');
  const other = await ourKeyring(
    testKeyBytes(256).map((b) => b ^ 1),
    'other',
    'veil',
  );
  const plain = new Map<string, Uint8Array>();
  for (const [index, key] of ['docs/a.txt', 'docs/b.txt', 'docs/sub/c.txt'].entries()) {
    const bytes = patternBytes(3000 + index * 700).map((b) => b ^ index);
    plain.set(key, bytes);
    const keyring = key === options.otherKey ? other : team;
    const stored = await encryptBytes(bytes, { keyring, frameBytes: 1024 });
    if (key === options.tamper) stored.set([stored.at(-40)! ^ 1], stored.length - 40);
    s3.put(key, stored);
  }
  const sinks: MemorySink[] = [];
  const asked: string[] = [];
  const deps: ZipDeps = {
    list: {
      list: ({ prefix }) =>
        Promise.resolve({
          objects: [...s3.objects.keys()]
            .filter((key) => key.startsWith(prefix))
            .map((key) => ({ key, sizeBytes: 1, lastModifiedMs: undefined, etag: undefined })),
          folders: [],
          nextToken: undefined,
        }),
    },
    s3: () => s3,
    decryptor: () => undefined,
    readKeyring: () => Promise.resolve(team),
    bindingRule: () => Promise.resolve('if-present'),
    chooseTarget: (name) => {
      asked.push(name);
      const sink = new MemorySink();
      sinks.push(sink);
      return Promise.resolve({ sink });
    },
    needsClickToSave: () => options.needsClick ?? false,
  };
  const core = new ZipCore(deps, emptyZipView());
  const request = {
    config,
    prefix: 'docs/',
    rows: [fileRow('docs/a.txt'), fileRow('docs/b.txt'), folderRow('docs/sub/')],
    names: undefined,
    fileName: 'docs.zip',
  };
  return { core, request, sinks, asked, plain, s3 };
}

describe('ZipCore', () => {
  test('writes every file of the selection into one ZIP', async () => {
    const { core, request, sinks, asked, plain } = await setup();
    await core.run(request);
    expect(core.view.phase).toBe('done');
    expect(asked).toEqual(['docs.zip']);
    expect(core.view.filesDone).toBe(3);
    expect(core.view.filesTotal).toBe(3);
    const [sink] = sinks;
    expect(sink?.closed).toBe(true);
    const zip = sink!.bytes();
    expect(core.view.writtenBytes).toBe(zip.length);
    // client-zip stores entries: each file's bytes and path appear as they are.
    for (const [key, bytes] of plain) {
      expect(zip.indexOf(Buffer.from(bytes))).toBeGreaterThan(0);
      expect(zip.indexOf(Buffer.from(key.slice('docs/'.length)))).toBeGreaterThan(0);
    }
  });

  test('a file no key opens fails naming it, before anything is asked', async () => {
    const { core, request, asked } = await setup({ otherKey: 'docs/sub/c.txt' });
    await core.run(request);
    expect(core.view.phase).toBe('failed');
    expect(core.view.failedPath).toBe('sub/c.txt');
    expect(core.view.error?.code).toBe('NO_MATCHING_EDK');
    expect(asked).toEqual([]);
  });

  test('a tampered body stops the ZIP and aborts what was written', async () => {
    const { core, request, sinks } = await setup({ tamper: 'docs/b.txt' });
    await core.run(request);
    expect(core.view.phase).toBe('failed');
    expect(core.view.failedPath).toBe('b.txt');
    expect(core.view.error?.code).toBe('FRAME_TAMPERED');
    expect(core.view.filesDone).toBe(1);
    expect(sinks[0]?.aborted).toBe(true);
    expect(sinks[0]?.closed).toBe(false);
  });

  test('waits for a click when the save picker needs one, and can be cancelled there', async () => {
    const { core, request, asked } = await setup({ needsClick: true });
    await core.run(request);
    expect(core.view.phase).toBe('ready');
    expect(core.view.filesChecked).toBe(3);
    expect(asked).toEqual([]);
    core.cancel();
    expect(core.view.phase).toBe('cancelled');
    await core.save();
    expect(asked).toEqual([]);
  });

  test('Cancel while writing stops the downloads and aborts the ZIP', async () => {
    const { core, request, sinks, s3 } = await setup();
    // Once the save target is chosen every GET waits until cancelled: the ZIP is mid-way.
    s3.delayMs = () => (sinks.length > 0 ? 60_000 : 0);
    const running = core.run(request);
    await vi.waitFor(() => expect(core.view.phase).toBe('zipping'));
    core.cancel();
    await running;
    expect(core.view.phase).toBe('cancelled');
    expect(core.view.error).toBeUndefined();
    expect(sinks[0]?.aborted).toBe(true);
    expect(sinks[0]?.closed).toBe(false);
  });

  test('an empty selection says there is nothing to zip', async () => {
    const { core, request } = await setup();
    await core.run({ ...request, rows: [folderRow('empty/')] });
    expect(core.view.phase).toBe('failed');
    expect(core.view.error?.code).toBe('ZIP_NOTHING');
  });
});
