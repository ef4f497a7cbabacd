import { describe, expect, test } from 'vitest';
import { RawAesKeyring } from '../../../src/keyrings/raw-aes';
import { UploadQueue } from '../../../src/transfer/queue';
import { FileUpload } from '../../../src/transfer/upload';
import { inProcessBuilder } from '../../../src/transfer/part-builder';
import { FakeS3 } from './fake-s3';

const keyring = () =>
  RawAesKeyring.fromBytes({
    keyBytes: new Uint8Array(32).fill(9),
    keyName: 'q',
    keyNamespace: 'veil',
  });

describe('UploadQueue', () => {
  test('runs at most maxConcurrentFiles uploads at once, in order, and can drop queued ones', async () => {
    const s3 = new FakeS3();
    const ring = await keyring();
    const queue = new UploadQueue(2);
    let running = 0;
    let maxRunning = 0;
    const started: string[] = [];
    const add = (key: string) =>
      queue.add(() => {
        started.push(key);
        running += 1;
        maxRunning = Math.max(maxRunning, running);
        const upload = FileUpload.start({
          s3,
          builder: inProcessBuilder,
          keyring: ring,
          file: new File([new Uint8Array(1000)], key),
          bucket: 'b',
          key,
        });
        void upload.done.finally(() => (running -= 1)).catch(() => undefined);
        return upload;
      });
    const items = ['a', 'b', 'c', 'd', 'e'].map(add);
    expect(queue.running).toBe(2);
    expect(items[4]?.state).toBe('queued');
    await items[4]?.remove();
    await expect(items[4]?.done).rejects.toMatchObject({ code: 'UPLOAD_CANCELLED' });
    await Promise.all(items.slice(0, 4).map((item) => item.done));
    expect(maxRunning).toBe(2);
    expect(started).toEqual(['a', 'b', 'c', 'd']);
    expect([...s3.objects.keys()].sort()).toEqual(['a', 'b', 'c', 'd']);
    expect(queue.running).toBe(0);
  });

  test('guards its limit', () => {
    expect(() => new UploadQueue(0)).toThrow(expect.objectContaining({ code: 'OUT_OF_RANGE' }));
  });
});
