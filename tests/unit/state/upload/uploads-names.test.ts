/**
 * The upload queue under private names ([Note: names of the current location]): keys are the
 * encrypted ones (looked up and sent), rows show clear paths, a refused name fails its row before
 * anything is sent, Keep both numbers the clear name and encrypts it again, and a location whose
 * names key does not open takes no file.
 */
import { describe, expect, test } from 'vitest';
import type { VeilConfig } from '../../../../src/aws/config';
import { VeilError, createNameCipher } from '../../../../src/core';
import type { Keyring } from '../../../../src/core/keyring';
import type { UploadS3 } from '../../../../src/transfer/s3-api';
import { privateNames, type LocationNames } from '../../../../src/transfer/location-names';
import type { UploadOptions, UploadResult, UploadSetup } from '../../../../src/transfer/upload';
import { MemoryUploadStore } from '../../../../src/transfer/upload-store';
import type { EngineUpload } from '../../../../src/state/upload/runs';
import { UploadsCore, type UploadsDeps } from '../../../../src/state/upload/uploads-core';

const config: VeilConfig = {
  region: 'us-east-1',
  bucket: 'b',
  prefix: 'team/',
  endpoints: {},
  forcePathStyle: true,
};
const names = privateNames(
  { bucket: 'b', root: 'team/' },
  createNameCipher(new Uint8Array(64).fill(3)),
);
const writeKeyring = { name: 'write' } as unknown as Keyring;
const CLEAR = /docs|report|a \(|\.txt/;

function setup(options: { taken?: string[]; refuse?: VeilError } = {}) {
  const taken = new Set(options.taken ?? []);
  const lookups: string[] = [];
  const started: UploadOptions[] = [];
  const writers: unknown[] = [];
  const deps: UploadsDeps = {
    preferences: { values: { model: 'A', atRest: undefined } },
    session: { ready: true, identityId: '' },
    s3: () => ({}) as UploadS3,
    objectExists: (_bucket, key) => {
      lookups.push(key);
      return Promise.resolve(taken.has(key));
    },
    builder: () => ({}) as UploadSetup['builder'],
    store: () => new MemoryUploadStore(),
    start: (opts) => {
      started.push(opts);
      const upload: EngineUpload = {
        uploadId: undefined,
        done: new Promise<UploadResult>(() => undefined),
        pause: () => undefined,
        resume: () => undefined,
        cancel: () => Promise.resolve(),
      };
      return upload;
    },
    resume: () => {
      throw new Error('not resumed here');
    },
    holdLock: () => Promise.resolve(() => undefined),
    keys: {
      write: () => ({ keyring: writeKeyring, encryptionContext: { app: 'veil' }, keyName: 'k' }),
      read: () => Promise.resolve(undefined),
      forRecord: () => undefined,
    },
    names: {
      forUpload: (_config, writer): Promise<LocationNames> => {
        writers.push(writer);
        return options.refuse ? Promise.reject(options.refuse) : Promise.resolve(names);
      },
      shownPath: (key) => names.clearPath(key) ?? key,
    },
  };
  const core = new UploadsCore(deps);
  core.attach(config);
  return { core, lookups, started, writers };
}

const file = (name: string) => new File(['0123456789'], name);
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('uploads under private names', () => {
  test('rows show clear paths; only encrypted keys are looked up and sent', async () => {
    const world = setup();
    world.core.state.folderText = 'docs';
    await world.core.add([
      { file: file('report.txt'), relativePath: 'q3/report.txt' },
      { file: file('a.txt'), relativePath: 'a.txt' },
    ]);
    await tick();
    const rows = world.core.state.rows;
    expect(rows.map((row) => row.shownPath)).toEqual(['docs/q3/report.txt', 'docs/a.txt']);
    expect(rows[0]?.key).toBe(names.objectKey('docs/q3/report.txt'));
    expect(world.lookups).toEqual(rows.map((row) => row.key));
    expect(world.started.map((opts) => opts.key)).toEqual(rows.map((row) => row.key));
    expect([...world.lookups, ...world.started.map((opts) => opts.key)].join(' ')).not.toMatch(
      CLEAR,
    );
    // The names key of a pending location is created with the upload's own keyring.
    expect(world.writers[0]).toMatchObject({ keyring: writeKeyring });
  });

  test('a refused name fails its row before anything is sent', async () => {
    const world = setup();
    await world.core.add([
      {
        file: file('long'),
        relativePath: `${'x'.repeat(300)}/${'y'.repeat(300)}/${'z'.repeat(300)}`,
      },
      { file: file('ok.txt'), relativePath: 'ok.txt' },
    ]);
    await tick();
    const [long, ok] = world.core.state.rows;
    expect(long).toMatchObject({ phase: 'failed', key: '', error: { code: 'NAME_TOO_LONG' } });
    expect(ok?.phase).not.toBe('failed');
    expect(world.lookups).toEqual([ok?.key]);
    expect(world.started).toHaveLength(1);
    // Retry keeps it failed and sends nothing; Remove drops it.
    await world.core.retry(long!.id);
    expect(world.core.state.rows[0]).toMatchObject({
      phase: 'failed',
      error: { code: 'NAME_TOO_LONG' },
    });
    expect(world.lookups).toHaveLength(1);
    await world.core.remove(long!.id);
    expect(world.core.state.rows).toHaveLength(1);
  });

  test('Keep both numbers the clear name, then encrypts it', async () => {
    const world = setup({ taken: [names.objectKey('docs/a.txt')] });
    world.core.state.folderText = 'docs';
    await world.core.add([{ file: file('a.txt'), relativePath: 'a.txt' }]);
    await tick();
    const row = world.core.state.rows[0]!;
    expect(row.phase).toBe('conflict');
    await world.core.resolve(row.id, 'keep-both');
    await tick();
    const kept = world.core.state.rows[0]!;
    expect(kept.shownPath).toBe('docs/a (1).txt');
    expect(kept.key).toBe(names.objectKey('docs/a (1).txt'));
    expect(names.clearPath(world.started[0]!.key)).toBe('docs/a (1).txt');
    expect(world.lookups.join(' ')).not.toMatch(CLEAR);
  });

  test('a names key that does not open takes no file', async () => {
    const world = setup({ refuse: new VeilError('NAMES_KEY_UNREADABLE') });
    await world.core.add([{ file: file('a.txt'), relativePath: 'a.txt' }]);
    expect(world.core.state.addError?.code).toBe('NAMES_KEY_UNREADABLE');
    expect(world.core.state.rows).toEqual([]);
    expect(world.lookups).toEqual([]);
  });
});
