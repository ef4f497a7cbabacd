/**
 * The Upload view's queue (src/state/upload/uploads-core.ts) over fakes of the engine, S3 and the locks
 * and a real in-memory resume store: taken names wait for Replace, Keep both or Skip; a failed
 * upload is kept, and Retry resumes it holding its lock; Remove aborts it; a started-over upload
 * tells the user; every lock a row holds is let go when the row lets go of its upload.
 */
import { describe, expect, test } from 'vitest';
import type { VeilConfig } from '../../../../src/aws/config';
import { VeilError } from '../../../../src/core/errors';
import type { Keyring } from '../../../../src/core/keyring';
import type { StartedOver, UploadProgress } from '../../../../src/transfer/progress';
import type { UploadS3 } from '../../../../src/transfer/s3-api';
import type { UploadOptions, UploadResult, UploadSetup } from '../../../../src/transfer/upload';
import { MemoryUploadStore, type UploadRecord } from '../../../../src/transfer/upload-store';
import type { WriteKeys } from '../../../../src/state/shared/keyrings';
import { startedOverNotice } from '../../../../src/state/upload/errors';
import type { EngineUpload } from '../../../../src/state/upload/runs';
import { UploadsCore, type UploadsDeps } from '../../../../src/state/upload/uploads-core';

const config: VeilConfig = {
  region: 'us-east-1',
  bucket: 'b',
  prefix: 'veil',
  endpoints: {},
  forcePathStyle: true,
};

// Passed through to the engine, never called by the queue.
const writeKeyring = { name: 'write' } as unknown as Keyring;
const readKeyring = { name: 'read' } as unknown as Keyring;
const recordKeyring = { name: 'record' } as unknown as Keyring;

/** The engine's FileUpload as the test drives it. */
class FakeUpload implements EngineUpload {
  uploadId: string | undefined;
  readonly done: Promise<UploadResult>;
  paused = false;
  #resolve: (result: UploadResult) => void = () => undefined;
  #reject: (error: unknown) => void = () => undefined;

  constructor(
    readonly setup: UploadSetup,
    readonly options: UploadOptions | undefined,
    readonly record: UploadRecord | undefined,
    readonly file: File,
  ) {
    this.uploadId = record?.uploadId;
    this.done = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.done.catch(() => undefined);
  }

  /** Creates the multipart upload (the app takes its lock); a refused lock fails the upload. */
  async create(uploadId: string): Promise<void> {
    this.uploadId = uploadId;
    try {
      await this.setup.onUploadCreated?.(uploadId);
    } catch (error) {
      this.#reject(error);
    }
  }

  report(state: UploadProgress['state'], startedOver?: StartedOver): void {
    this.setup.onProgress?.({
      state,
      plaintextBytes: 10,
      objectBytes: 20,
      encryptedBytes: 0,
      uploadedBytes: 0,
      partsDone: 0,
      partCount: 1,
      rateBytesPerSecond: 0,
      etaSeconds: undefined,
      ...(startedOver ? { startedOver } : {}),
    });
  }

  finish(): void {
    const key = this.options?.key ?? this.record?.key ?? '';
    this.#resolve({
      bucket: 'b',
      key,
      objectBytes: 20,
      partCount: 1,
      method: 'put',
    } as UploadResult);
  }

  fail(error: unknown): void {
    this.#reject(error);
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }

  cancel(): Promise<void> {
    this.#reject(new VeilError('UPLOAD_CANCELLED'));
    return Promise.resolve();
  }
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

function setup(
  options: { taken?: string[]; busy?: string[]; ready?: boolean; padding?: 'padme' } = {},
) {
  const taken = new Set(options.taken ?? []);
  // Upload ids whose next lock requests another tab refuses, once per entry.
  const busy = [...(options.busy ?? [])];
  const lookups: string[] = [];
  const uploads: FakeUpload[] = [];
  const held = new Map<string, number>();
  const aborted: string[] = [];
  const store = new MemoryUploadStore();
  let abortError: Error | undefined;
  let lookupError: Error | undefined;
  let writeError: VeilError | undefined;
  const s3 = {
    abortMultipartUpload: (input: { Key: string; UploadId: string }) => {
      if (abortError) return Promise.reject(abortError);
      aborted.push(`${input.Key}#${input.UploadId}`);
      return Promise.resolve({});
    },
  } as unknown as UploadS3;
  const deps: UploadsDeps = {
    preferences: { values: { model: 'A', atRest: undefined } },
    session: { ready: options.ready ?? true, identityId: '' },
    s3: () => s3,
    objectExists: (_bucket, key) => {
      lookups.push(key);
      if (lookupError) return Promise.reject(lookupError);
      return Promise.resolve(taken.has(key));
    },
    builder: () => ({}) as UploadSetup['builder'],
    store: () => store,
    start: (opts) => {
      const upload = new FakeUpload(opts, opts, undefined, opts.file);
      uploads.push(upload);
      return upload;
    },
    resume: (record, file, setup) => {
      const upload = new FakeUpload(setup, undefined, record, file);
      uploads.push(upload);
      return upload;
    },
    holdLock: (uploadId) => {
      const refused = busy.indexOf(uploadId);
      if (refused >= 0) {
        busy.splice(refused, 1);
        return Promise.reject(new VeilError('RESUME_UPLOAD_BUSY'));
      }
      held.set(uploadId, (held.get(uploadId) ?? 0) + 1);
      return Promise.resolve(() => held.set(uploadId, (held.get(uploadId) ?? 1) - 1));
    },
    keys: {
      write: (model): WriteKeys => {
        if (writeError) throw writeError;
        return {
          keyring: writeKeyring,
          encryptionContext: { app: 'veil' },
          keyName: `key-${model}`,
        };
      },
      read: () => Promise.resolve(readKeyring),
      forRecord: () => recordKeyring,
    },
    padding: () => options.padding,
  };
  const core = new UploadsCore(deps);
  core.attach(config);
  return {
    core,
    uploads,
    lookups,
    held,
    aborted,
    store,
    taken,
    /** Locks held now, by upload id (zero entries dropped). */
    locks: () => [...held].filter(([, count]) => count > 0).map(([id]) => id),
    failAbort: (error: Error | undefined) => (abortError = error),
    failLookup: (error: Error | undefined) => (lookupError = error),
    failWrite: (error: VeilError | undefined) => (writeError = error),
  };
}

const file = (name: string) => new File(['0123456789'], name);
const picked = (...names: string[]) => names.map((n) => ({ file: file(n), relativePath: n }));

function record(uploadId: string, key: string): UploadRecord {
  return {
    id: uploadId,
    bucket: 'b',
    key,
    uploadId,
    protection: 'none',
    headerBytes: new Uint8Array(0),
    frameBytes: 0,
    framesPerPart: 0,
    partCount: 2,
    file: { name: 'a.txt', sizeBytes: 10, lastModifiedMs: 0, prefixSha256: '' },
    parts: [],
    createdAtMs: 0,
  };
}

/** A row whose upload was created and then failed (kept, as every upload is). */
async function failedRow(world: ReturnType<typeof setup>, uploadId = 'u1') {
  await world.core.add(picked('a.txt'));
  const upload = world.uploads[0] as FakeUpload;
  await upload.create(uploadId);
  upload.fail(new VeilError('WORKER_FAILED'));
  await tick();
  return upload;
}

describe('adding files', () => {
  test('a free name is queued and started under the prefix with the chosen keys', async () => {
    const { core, uploads, lookups } = setup();
    await core.add(picked('a.txt'));
    expect(lookups).toEqual(['veil/a.txt']);
    expect(uploads).toHaveLength(1);
    const options = uploads[0]?.options;
    expect(options?.key).toBe('veil/a.txt');
    expect(options?.keyring).toBe(writeKeyring);
    expect(options?.encryptionContext).toEqual({ app: 'veil' });
    expect(options?.keepOnFailure).toBe(true);
    expect(core.state.rows[0]).toMatchObject({ phase: 'active', keyName: 'key-A' });
  });

  test('with size padding on, the file is marked padded in its context; off, it is not', async () => {
    const padded = setup({ padding: 'padme' });
    await padded.core.add(picked('a.txt'));
    expect(padded.uploads[0]?.options?.encryptionContext).toEqual({
      app: 'veil',
      'veil-padding': 'padme',
    });
    const plain = setup();
    await plain.core.add(picked('a.txt'));
    expect(plain.uploads[0]?.options?.encryptionContext).toEqual({ app: 'veil' });
  });

  test('a name taken in the bucket, or by another live row, waits for the user', async () => {
    const { core, uploads, lookups } = setup({ taken: ['veil/b.txt'] });
    await core.add(picked('a.txt', 'b.txt'));
    await core.add(picked('a.txt'));
    // The second a.txt is taken by the first row: no lookup needed.
    expect(lookups).toEqual(['veil/a.txt', 'veil/b.txt']);
    expect(core.state.rows.map((row) => row.phase)).toEqual(['active', 'conflict', 'conflict']);
    expect(uploads).toHaveLength(1);
    expect(core.conflicts).toBe(2);
    expect(core.state.announcement).toMatch(/^2 files have the name of an existing file/);
  });

  test('a lookup that fails fails the row; nothing is uploaded', async () => {
    const world = setup();
    world.failLookup(new VeilError('CREDENTIALS_EXPIRED'));
    await world.core.add(picked('a.txt'));
    expect(world.core.state.rows[0]?.phase).toBe('failed');
    expect(world.core.state.rows[0]?.error?.code).toBe('CREDENTIALS_EXPIRED');
    expect(world.uploads).toHaveLength(0);
  });

  test('a bad folder or a missing key adds nothing and says why', async () => {
    const world = setup();
    world.core.state.folderText = '../up';
    await world.core.add(picked('a.txt'));
    expect(world.core.state.addError?.code).toBe('BAD_ARGUMENT');
    world.core.state.folderText = '';
    world.failWrite(new VeilError('VAULT_KEY_MISSING'));
    await world.core.add(picked('a.txt'));
    expect(world.core.state.addError).toMatchObject({ code: 'VAULT_KEY_MISSING', fix: 'keys' });
    expect(world.core.state.rows).toHaveLength(0);
  });

  test('readiness: credentials first, then the chosen model’s key', () => {
    expect(setup({ ready: false }).core.readiness(config)).toMatchObject({
      ok: false,
      error: { code: 'CREDENTIALS_MISSING' },
    });
    const world = setup();
    expect(world.core.readiness(config)).toEqual({ ok: true, keyName: 'key-A' });
    world.core.state.choice = { mode: 'S3-ONLY', sse: 'SSE-S3' };
    expect(world.core.readiness(config)).toEqual({ ok: true, keyName: undefined });
  });
});

describe('settling a conflict', () => {
  test('Replace uploads under the same name', async () => {
    const { core, uploads } = setup({ taken: ['veil/a.txt'] });
    await core.add(picked('a.txt'));
    await core.resolve(1, 'replace');
    expect(uploads.map((u) => u.options?.key)).toEqual(['veil/a.txt']);
  });

  test('Keep both uploads under the first free numbered name', async () => {
    const { core, uploads, lookups } = setup({ taken: ['veil/a.txt', 'veil/a (1).txt'] });
    await core.add(picked('a.txt'));
    await core.resolve(1, 'keep-both');
    expect(lookups).toEqual(['veil/a.txt', 'veil/a (1).txt', 'veil/a (2).txt']);
    expect(core.state.rows[0]?.key).toBe('veil/a (2).txt');
    expect(uploads.map((u) => u.options?.key)).toEqual(['veil/a (2).txt']);
  });

  test('Skip uploads nothing; resolveAll settles every waiting row', async () => {
    const { core, uploads } = setup({ taken: ['veil/a.txt', 'veil/b.txt'] });
    await core.add(picked('a.txt', 'b.txt'));
    await core.resolveAll('skip');
    expect(core.state.rows.map((row) => row.phase)).toEqual(['cancelled', 'cancelled']);
    expect(uploads).toHaveLength(0);
    await core.resolve(1, 'replace');
    expect(uploads).toHaveLength(0);
  });
});

describe('the engine reports into the row', () => {
  test('done: the lock taken at creation is let go', async () => {
    const { core, uploads, locks } = setup();
    await core.add(picked('a.txt'));
    const upload = uploads[0] as FakeUpload;
    await upload.create('u1');
    expect(locks()).toEqual(['u1']);
    upload.report('uploading');
    expect(core.state.rows[0]?.engineState).toBe('uploading');
    upload.finish();
    await tick();
    expect(core.state.rows[0]?.phase).toBe('done');
    expect(core.state.announcement).toBe('a.txt uploaded.');
    expect(locks()).toEqual([]);
  });

  test('cancel: the engine cancels, the row says so and lets go of the lock', async () => {
    const { core, uploads, locks } = setup();
    await core.add(picked('a.txt'));
    await (uploads[0] as FakeUpload).create('u1');
    await core.cancel(1);
    await tick();
    expect(core.state.rows[0]?.phase).toBe('cancelled');
    expect(core.state.announcement).toBe('a.txt cancelled.');
    expect(locks()).toEqual([]);
  });

  test('pause and resume reach the running upload', async () => {
    const { core, uploads } = setup();
    await core.add(picked('a.txt'));
    core.pause(1);
    expect(uploads[0]?.paused).toBe(true);
    core.resume(1);
    expect(uploads[0]?.paused).toBe(false);
  });

  test('startedOver: the row gets a notice once, and it is announced', async () => {
    const { core, uploads } = setup();
    await core.add(picked('a.txt'));
    const upload = uploads[0] as FakeUpload;
    const startedOver: StartedOver = { code: 'RESUME_FILE_CHANGED', detail: 'part 2' };
    upload.report('uploading', startedOver);
    const notice = startedOverNotice(startedOver);
    expect(core.state.rows[0]?.notice).toBe(notice);
    expect(core.state.announcement).toBe(`a.txt: ${notice}`);
    core.announce('later');
    upload.report('uploading', { code: 'RESUME_UNVERIFIABLE', detail: undefined });
    expect(core.state.rows[0]?.notice).toBe(notice);
    expect(core.state.announcement).toBe('later');
  });

  test('a failure keeps the upload and its lock', async () => {
    const world = setup();
    await failedRow(world);
    expect(world.core.state.rows[0]).toMatchObject({
      phase: 'failed',
      error: { code: 'WORKER_FAILED' },
    });
    expect(world.core.state.announcement).toBe('a.txt failed: WORKER_FAILED.');
    expect(world.core.liveUploadIds()).toEqual(new Set(['u1']));
    expect(world.locks()).toEqual(['u1']);
  });
});

describe('Retry', () => {
  test('resumes the kept upload with the same file, under the lock it holds', async () => {
    const world = setup();
    const first = await failedRow(world);
    await world.store.put(record('u1', 'veil/a.txt'));
    await world.core.retry(1);
    const again = world.uploads[1];
    expect(again?.record?.uploadId).toBe('u1');
    expect(again?.file).toBe(first.file);
    expect(again?.setup.keyring).toBe(writeKeyring);
    expect(world.held.get('u1')).toBe(1);
    again?.finish();
    await tick();
    expect(world.core.state.rows[0]?.phase).toBe('done');
    expect(world.locks()).toEqual([]);
  });

  test('takes the upload lock when the row does not hold it', async () => {
    const world = setup({ busy: ['u1'] });
    await failedRow(world);
    expect(world.core.state.rows[0]?.error?.code).toBe('RESUME_UPLOAD_BUSY');
    expect(world.locks()).toEqual([]);
    await world.store.put(record('u1', 'veil/a.txt'));
    await world.core.retry(1);
    expect(world.locks()).toEqual(['u1']);
    expect(world.uploads[1]?.record?.uploadId).toBe('u1');
  });

  test('a lock another tab holds fails the retry and resumes nothing', async () => {
    const world = setup({ busy: ['u1', 'u1'] });
    await failedRow(world);
    await world.store.put(record('u1', 'veil/a.txt'));
    await world.core.retry(1);
    expect(world.core.state.rows[0]).toMatchObject({
      phase: 'failed',
      error: { code: 'RESUME_UPLOAD_BUSY' },
    });
    expect(world.uploads).toHaveLength(1);
  });

  test('a row of an earlier session resumes with the session’s read keyring', async () => {
    const world = setup();
    const kept = { ...record('u9', 'veil/old.txt'), protection: 'client-side' as const };
    void world.core.addResumed(kept, file('old.txt'), undefined);
    (world.uploads[0] as FakeUpload).fail(new VeilError('WORKER_FAILED'));
    await tick();
    await world.store.put(kept);
    await world.core.retry(1);
    expect(world.uploads[1]?.setup.keyring).toBe(readKeyring);
    expect(world.uploads[1]?.record?.protection).toBe('client-side');
  });

  test('a kept upload gone from the store: the name is looked up again and it starts over', async () => {
    const world = setup();
    await failedRow(world);
    world.taken.add('veil/a.txt');
    await world.core.retry(1);
    expect(world.core.state.rows[0]?.phase).toBe('conflict');
    expect(world.uploads).toHaveLength(1);
  });

  test('nothing kept: the name is looked up again and a new upload starts', async () => {
    const world = setup();
    await world.core.add(picked('a.txt'));
    (world.uploads[0] as FakeUpload).fail(new VeilError('WORKER_FAILED'));
    await tick();
    await world.core.retry(1);
    expect(world.lookups).toEqual(['veil/a.txt', 'veil/a.txt']);
    expect(world.uploads[1]?.options?.key).toBe('veil/a.txt');
  });
});

describe('Remove', () => {
  test('aborts a kept upload, deletes its record and lets go of the lock', async () => {
    const world = setup();
    await failedRow(world);
    await world.store.put(record('u1', 'veil/a.txt'));
    await world.core.remove(1);
    expect(world.aborted).toEqual(['veil/a.txt#u1']);
    expect(await world.store.get('u1')).toBeUndefined();
    expect(world.locks()).toEqual([]);
    expect(world.core.state.rows).toEqual([]);
  });

  test('an upload S3 no longer has counts as aborted; another failure keeps the row', async () => {
    const world = setup();
    await failedRow(world);
    world.failAbort(Object.assign(new Error('gone'), { name: 'NoSuchUpload' }));
    await world.core.remove(1);
    expect(world.core.state.rows).toEqual([]);
    const other = setup();
    await failedRow(other);
    other.failAbort(new VeilError('CREDENTIALS_EXPIRED'));
    await other.core.remove(1);
    expect(other.core.state.rows[0]?.error?.code).toBe('CREDENTIALS_EXPIRED');
    expect(other.locks()).toEqual(['u1']);
  });

  test('a running row stays; clearFinished drops done and skipped rows', async () => {
    const world = setup({ taken: ['veil/b.txt'] });
    await world.core.add(picked('a.txt', 'b.txt'));
    await world.core.remove(1);
    expect(world.core.state.rows).toHaveLength(2);
    await world.core.resolve(2, 'skip');
    (world.uploads[0] as FakeUpload).finish();
    await tick();
    world.core.clearFinished();
    expect(world.core.state.rows).toEqual([]);
  });
});

describe('the resume of an earlier session', () => {
  test('queues the record with its keyring; the row owns the lock and lets it go when done', async () => {
    const world = setup();
    let released = 0;
    const settled = world.core.addResumed(
      record('u9', 'veil/old.txt'),
      file('old.txt'),
      readKeyring,
      () => {
        released += 1;
      },
    );
    const upload = world.uploads[0] as FakeUpload;
    expect(upload.record?.uploadId).toBe('u9');
    expect(upload.setup.keyring).toBe(readKeyring);
    expect(upload.setup.startOverKeyring).toBe(recordKeyring);
    expect(world.core.state.rows[0]).toMatchObject({ resumed: true, key: 'veil/old.txt' });
    upload.finish();
    await settled;
    expect(released).toBe(1);
  });

  test('Retry of a resumed upload whose record is gone fails with RESUME_UPLOAD_GONE', async () => {
    const world = setup();
    void world.core.addResumed(record('u9', 'veil/old.txt'), file('old.txt'), undefined);
    (world.uploads[0] as FakeUpload).fail(new VeilError('WORKER_FAILED'));
    await tick();
    await world.core.retry(1);
    expect(world.core.state.rows[0]?.error?.code).toBe('RESUME_UPLOAD_GONE');
    expect(world.uploads).toHaveLength(1);
  });
});
