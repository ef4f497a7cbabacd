/**
 * The downloads of the Files view (src/state/files/downloads-core.ts) over the real download engine, a
 * fake S3 and a real vault core on an in-memory store: an object opens with the session's keys;
 * without them the item names the key it needs and takes its key file, held for the page or kept
 * in the vault, once it opens the file (a same-name key with other bytes is refused and kept
 * nowhere); the key is checked before the save picker is asked; a dismissed picker or a cancel
 * ends as cancelled; the list keeps what is active.
 */
import { describe, expect, test, vi } from 'vitest';
import type { VeilConfig } from '../../../../src/aws/config';
import { VeilError } from '../../../../src/core/errors';
import { serializeKeyFile } from '../../../../src/core/key-file';
import type { Keyring } from '../../../../src/core/keyring';
import { createMultiKeyring } from '../../../../src/core/multi-keyring';
import { encryptBytes } from '../../../../src/core/one-shot';
import {
  DownloadItemCore,
  DownloadList,
  emptyDownloadView,
  type DownloadContext,
  type DownloadObject,
  type DownloadsDeps,
} from '../../../../src/state/files/downloads-core';
import {
  VaultCore,
  type SealedKey,
  type StoredKey,
  type VaultStore,
} from '../../../../src/state/keys/vault-core';
import { ourKeyring, patternBytes, testKeyBytes } from '../../core/helpers';
import { FakeDownloadS3, MemorySink } from '../../transfer/download-fake-s3';

const config: VeilConfig = {
  region: 'us-east-1',
  bucket: 'b',
  prefix: '',
  endpoints: {},
  forcePathStyle: true,
};
const KEY = testKeyBytes(256);
const KEY_NAME = 'team';

function memoryStore(): VaultStore {
  const map = new Map<string, StoredKey | SealedKey>();
  return {
    entries: () => Promise.resolve([...map.entries()]),
    set: (name, value) => Promise.resolve(void map.set(name, value)),
    del: (name) => Promise.resolve(void map.delete(name)),
  };
}

const teamKeyring = () => ourKeyring(KEY, KEY_NAME, 'veil');
const keyFile = (keyBytes = KEY, keyName = KEY_NAME) =>
  new File([serializeKeyFile({ keyBytes: keyBytes.slice(), keyName, keyNamespace: 'veil' })], 'k');

/** A page's list with one object in S3: `secret.bin` encrypted under "team", `plain.txt` not. */
async function setup(
  options: { sessionKeyring?: Keyring; dismiss?: boolean; needsClick?: boolean } = {},
) {
  const s3 = new FakeDownloadS3();
  const plain = patternBytes(3000);
  s3.put(
    'secret.bin',
    await encryptBytes(plain, { keyring: await teamKeyring(), frameBytes: 1024 }),
  );
  s3.put('plain.txt', plain);
  const vault = new VaultCore(memoryStore());
  const sinks: MemorySink[] = [];
  const deps: DownloadsDeps = {
    needsClickToSave: () => options.needsClick ?? false,
    chooseTarget: () => {
      if (options.dismiss) return Promise.reject(new VeilError('DOWNLOAD_CANCELLED'));
      const sink = new MemorySink();
      sinks.push(sink);
      return Promise.resolve({ sink, kind: 'blob' });
    },
    s3: () => s3,
    decryptor: () => undefined,
    // As readKeyring does: the vault's keys and the session's other sources.
    readKeyring: () => {
      const children = [
        ...vault.keyrings(),
        ...(options.sessionKeyring ? [options.sessionKeyring] : []),
      ];
      return Promise.resolve(children.length > 0 ? createMultiKeyring({ children }) : undefined);
    },
    vault,
    session: { hasIdToken: false },
  };
  const state = { items: [] as DownloadItemCore[], announcement: '' };
  const list = new DownloadList<DownloadItemCore>(
    state,
    (_id: number, object: DownloadObject, context: DownloadContext) =>
      new DownloadItemCore(deps, emptyDownloadView(), object, context),
  );
  const object = (key: string): DownloadObject => ({ key, name: key, sizeBytes: 3000 });
  return { s3, plain, vault, sinks, state, list, object };
}

async function started(world: Awaited<ReturnType<typeof setup>>, key: string) {
  const item = world.list.start(config, world.object(key));
  await vi.waitFor(() => expect(item.active).toBe(false));
  return item;
}

describe('a download', () => {
  test('opens with the session’s keys and saves the plaintext', async () => {
    const world = await setup({ sessionKeyring: await teamKeyring() });
    const item = await started(world, 'secret.bin');
    expect(item.view).toMatchObject({ phase: 'done', label: 'decrypted', saveKind: 'blob' });
    expect(new Uint8Array(world.sinks.at(-1)?.bytes() ?? [])).toEqual(world.plain);
    expect(world.state.announcement).toBe('secret.bin downloaded.');
  });

  test('a plain object is saved as it is', async () => {
    const world = await setup();
    const item = await started(world, 'plain.txt');
    expect(item.view).toMatchObject({ phase: 'done', label: 'plain' });
  });

  test('a dismissed picker ends as cancelled, and nothing is written', async () => {
    const world = await setup({ dismiss: true });
    const item = await started(world, 'plain.txt');
    expect(item.view.phase).toBe('cancelled');
    expect(world.state.announcement).toBe('plain.txt cancelled.');
  });

  test('cancel aborts the running download and discards what was written', async () => {
    const world = await setup();
    world.s3.delayMs = () => 20;
    const item = world.list.start(config, world.object('plain.txt'));
    await vi.waitFor(() => expect(world.sinks).toHaveLength(1));
    item.cancel();
    await vi.waitFor(() => expect(item.view.phase).toBe('cancelled'));
    expect(world.sinks[0]?.aborted).toBe(true);
  });

  test('cancel during the check ends as cancelled without asking where to save', async () => {
    const world = await setup();
    world.s3.delayMs = () => 20;
    const item = world.list.start(config, world.object('plain.txt'));
    await new Promise((resolve) => setTimeout(resolve, 5));
    item.cancel();
    await vi.waitFor(() => expect(item.view.phase).toBe('cancelled'));
    expect(world.sinks).toHaveLength(0);
  });

  test('a missing object fails with the engine’s code', async () => {
    const world = await setup();
    const item = await started(world, 'gone.bin');
    expect(item.view.phase).toBe('failed');
    expect(item.view.error?.code).toBeDefined();
    // Checked before the save picker: it was never asked.
    expect(world.sinks).toHaveLength(0);
  });
});

describe('a download the session has no key for', () => {
  test('names the key it needs and offers to keep its key file', async () => {
    const world = await setup();
    const item = await started(world, 'secret.bin');
    expect(item.view.phase).toBe('needs-key');
    expect(item.view.advice).toEqual([expect.objectContaining({ model: 'A', keyName: KEY_NAME })]);
    expect(item.view.canKeep).toBe(true);
    expect(item.view.error?.code).toBe('NO_KEY_FOR_OBJECT');
    // The key is checked before the save picker: it was never asked.
    expect(world.sinks).toHaveLength(0);
    expect(world.state.announcement).toBe('secret.bin needs a key: see the downloads list.');
  });

  test('a key file of another name is refused', async () => {
    const world = await setup();
    const item = await started(world, 'secret.bin');
    expect(await item.addKeyFile(keyFile(testKeyBytes(256, 2), 'other'), false)).toBe(false);
    expect(item.view.keyError?.code).toBe('NO_MATCHING_EDK');
    expect(item.view.keyAdded).toBeUndefined();
  });

  test('a key file held for the page opens it on the next run, and every later download', async () => {
    const world = await setup();
    const item = await started(world, 'secret.bin');
    expect(await item.addKeyFile(keyFile(), false)).toBe(true);
    expect(item.view).toMatchObject({ keyAdded: KEY_NAME, keyAddedTo: 'page' });
    expect(world.vault.keys).toEqual([]);
    expect(world.list.promptedKeyrings).toHaveLength(1);
    await item.run(config);
    expect(item.view).toMatchObject({ phase: 'done', label: 'decrypted', error: undefined });
    const later = await started(world, 'secret.bin');
    expect(later.view.phase).toBe('done');
    // The same key picked again is held once.
    expect(await item.addKeyFile(keyFile(), false)).toBe(true);
    expect(world.list.promptedKeyrings).toHaveLength(1);
  });

  test('a key file kept in the vault opens it on the next run', async () => {
    const world = await setup();
    const item = await started(world, 'secret.bin');
    expect(await item.addKeyFile(keyFile(), true)).toBe(true);
    expect(item.view).toMatchObject({ keyAdded: KEY_NAME, keyAddedTo: 'vault' });
    expect(world.vault.keys.map((key) => key.keyName)).toEqual([KEY_NAME]);
    expect(world.list.promptedKeyrings).toHaveLength(0);
    await item.run(config);
    expect(item.view).toMatchObject({ phase: 'done', label: 'decrypted' });
  });
});

describe('a key file with the right name and the wrong bytes', () => {
  const WRONG = testKeyBytes(256, 9);

  test('is refused where it is picked, kept nowhere, and the picker stays until the right key', async () => {
    const world = await setup();
    const item = await started(world, 'secret.bin');
    // Kept in the vault if it were accepted: it must not be.
    expect(await item.addKeyFile(keyFile(WRONG), true)).toBe(false);
    expect(item.view.keyError?.code).toBe('WRONG_KEY');
    expect(item.view).toMatchObject({ phase: 'needs-key', keyAdded: undefined });
    expect(world.vault.keys).toEqual([]);
    expect(world.list.promptedKeyrings).toHaveLength(0);
    // Held for the page if it were accepted: it must not be either.
    expect(await item.addKeyFile(keyFile(WRONG), false)).toBe(false);
    expect(world.list.promptedKeyrings).toHaveLength(0);
    // Download again and a new download still offer the picker, and never ask where to save.
    await item.run(config);
    expect(item.view.phase).toBe('needs-key');
    expect((await started(world, 'secret.bin')).view.phase).toBe('needs-key');
    expect(world.sinks).toHaveLength(0);
    // The right key opens it.
    expect(await item.addKeyFile(keyFile(), false)).toBe(true);
    expect(item.view.keyError).toBeUndefined();
    await item.run(config);
    expect(item.view.phase).toBe('done');
    expect(new Uint8Array(world.sinks.at(-1)?.bytes() ?? [])).toEqual(world.plain);
  });

  test('held by the vault: the run offers the picker (WRONG_KEY shown), and the right key picked opens it', async () => {
    const world = await setup();
    // Another key under the same name, in the vault (imported earlier, say).
    await world.vault.add({ keyBytes: WRONG.slice(), keyName: KEY_NAME, keyNamespace: 'veil' });
    const item = await started(world, 'secret.bin');
    expect(item.view).toMatchObject({ phase: 'needs-key', error: { code: 'WRONG_KEY' } });
    expect(item.view.advice[0]?.text).toContain('is in this browser but did not open the file');
    // The vault's name is taken: the right key is held for the page, first in the keyring.
    expect(item.view.canKeep).toBe(false);
    expect(world.sinks).toHaveLength(0);
    expect(await item.addKeyFile(keyFile(), true)).toBe(true);
    expect(item.view.keyAddedTo).toBe('page');
    await item.run(config);
    expect(item.view.phase).toBe('done');
  });
});

describe('the check before the save dialog', () => {
  test('a key service that is down fails the download without asking where to save', async () => {
    const down: Keyring = {
      onEncrypt: () => Promise.reject(new VeilError('HSM_PROXY_UNREACHABLE')),
      onDecrypt: () => Promise.reject(new VeilError('HSM_PROXY_UNREACHABLE')),
    };
    const world = await setup({ sessionKeyring: down });
    const item = await started(world, 'secret.bin');
    expect(item.view).toMatchObject({ phase: 'failed', error: { code: 'HSM_PROXY_UNREACHABLE' } });
    expect(world.sinks).toHaveLength(0);
  });

  test('a check that outlasted the click waits in ready; save() then asks and downloads', async () => {
    const world = await setup({ sessionKeyring: await teamKeyring(), needsClick: true });
    const item = await started(world, 'secret.bin');
    expect(item.view.phase).toBe('ready');
    expect(world.sinks).toHaveLength(0);
    expect(world.state.announcement).toBe('secret.bin is ready: choose where to save it.');
    await item.save(config);
    expect(item.view.phase).toBe('done');
    expect(new Uint8Array(world.sinks.at(-1)?.bytes() ?? [])).toEqual(world.plain);
  });
});

describe('the list', () => {
  test('newest first; clearFinished keeps active and waiting-for-a-key items; dismiss drops one', async () => {
    const world = await setup();
    const done = await started(world, 'plain.txt');
    const waiting = await started(world, 'secret.bin');
    expect(world.state.items).toEqual([waiting, done]);
    world.list.clearFinished();
    expect(world.state.items).toEqual([waiting]);
    world.list.dismiss(waiting);
    expect(world.state.items).toEqual([]);
  });
});
