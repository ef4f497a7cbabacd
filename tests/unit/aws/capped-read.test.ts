/**
 * [Note: capped reads]: anyone who may write to the bucket can write to anyone's inbox, so a
 * "note" of endless bytes must not be read whole. The S3 client here is a stub whose GETs record
 * the Range they were asked for and answer with a body that never ends (a server that ignores
 * the Range): the reader must ask for at most cap + 1 bytes, stop pulling soon after the cap, and
 * list that note as unreadable while the others open.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { getCapped, readAtMost } from '../../../src/aws/capped-read';
import { peopleStorageOver } from '../../../src/aws/bucket-s3';
import { linkListStorageFor } from '../../../src/aws/share-storage';
import { RawRsaKeyring } from '../../../src/keyrings/raw-rsa';
import { RSA_OAEP_SHA256, spkiFingerprint } from '../../../src/keyrings/rsa-keys';
import { listPeople, type PeopleStorage } from '../../../src/transfer/people-directory';
import { readInbox, writeInboxNote } from '../../../src/transfer/people-inbox';

const CHUNK_BYTES = 4096;

/** A body that never ends; counts the bytes pulled from it. */
function endlessBody(pulled: { bytes: number }): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        pulled.bytes += CHUNK_BYTES;
        controller.enqueue(new Uint8Array(CHUNK_BYTES).fill(0x41));
      },
    },
    { highWaterMark: 0 },
  );
}

interface Stub {
  readonly client: S3Client;
  readonly ranges: (string | undefined)[];
  readonly pulled: { bytes: number };
}

/**
 * An S3 client over `objects`; a GET of `hugeKey` answers 200 with an endless body (and, when
 * `contentLength` is given, that Content-Length), whatever Range it was asked.
 */
function stubS3(objects: Map<string, Uint8Array>, hugeKey: string, contentLength?: number): Stub {
  const ranges: (string | undefined)[] = [];
  const pulled = { bytes: 0 };
  const send = (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
    const input = command.input;
    if (command.constructor.name === 'ListObjectsV2Command') {
      const prefix = typeof input.Prefix === 'string' ? input.Prefix : '';
      const keys = [...objects.keys(), hugeKey].filter((k) => k.startsWith(prefix));
      return Promise.resolve({ Contents: keys.map((Key) => ({ Key })), IsTruncated: false });
    }
    if (command.constructor.name === 'GetObjectCommand') {
      const key = String(input.Key);
      ranges.push(input.Range as string | undefined);
      if (key === hugeKey) {
        return Promise.resolve({
          Body: endlessBody(pulled),
          ETag: '"huge"',
          ...(contentLength === undefined ? {} : { ContentLength: contentLength }),
        });
      }
      const bytes = objects.get(key);
      if (!bytes) return Promise.reject(Object.assign(new Error('no'), { name: 'NoSuchKey' }));
      return Promise.resolve({
        Body: new Blob([bytes as Uint8Array<ArrayBuffer>]).stream(),
        ETag: '"e"',
        ContentLength: bytes.length,
      });
    }
    return Promise.reject(new Error(`unexpected ${command.constructor.name}`));
  };
  return { client: { send } as unknown as S3Client, ranges, pulled };
}

let me: { fingerprint: string; keyring: RawRsaKeyring };

beforeAll(async () => {
  const pair = await crypto.subtle.generateKey(
    { ...RSA_OAEP_SHA256, modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) },
    false,
    ['encrypt', 'decrypt'],
  );
  const spki = new Uint8Array(await crypto.subtle.exportKey('spki', pair.publicKey));
  const fingerprint = await spkiFingerprint(spki);
  me = {
    fingerprint,
    keyring: new RawRsaKeyring({
      keyName: fingerprint,
      publicKey: pair.publicKey,
      privateKey: pair.privateKey,
    }),
  };
});

/** Two real notes for `me`, written through a memory storage. */
async function twoNotes(): Promise<Map<string, Uint8Array>> {
  const objects = new Map<string, Uint8Array>();
  const memory: PeopleStorage = {
    read: (key) => Promise.resolve(objects.get(key)),
    createOnly: (key, body) => Promise.resolve(objects.set(key, body) && true),
    list: () => Promise.resolve([...objects.keys()]),
  };
  for (const name of ['a.txt', 'b.txt']) {
    await writeInboxNote(memory, 'p/', me, {
      key: `objects/${name}`,
      name,
      from: { name: 'Al', fingerprint: me.fingerprint },
      shared: '2026-12-05T00:00:00Z',
    });
  }
  return objects;
}

describe('capped reads of the bucket’s small records', () => {
  it('asks for at most cap + 1 bytes and stops reading a body that does not end', async () => {
    const stub = stubS3(new Map(), 'huge');
    await expect(getCapped(stub.client, 'b', 'huge', 64 * 1024)).rejects.toMatchObject({
      code: 'RECORD_TOO_LARGE',
    });
    expect(stub.ranges).toEqual([`bytes=0-${64 * 1024}`]);
    expect(stub.pulled.bytes).toBeLessThanOrEqual(64 * 1024 + 2 * CHUNK_BYTES);
  });

  it('refuses an answer whose Content-Length is over the cap without reading its body', async () => {
    const stub = stubS3(new Map(), 'huge', 5 * 1024 ** 3);
    await expect(getCapped(stub.client, 'b', 'huge', 1024)).rejects.toMatchObject({
      code: 'RECORD_TOO_LARGE',
    });
    expect(stub.pulled.bytes).toBe(0);
  });

  it('reads a body of exactly the cap, and none over it', async () => {
    const body = (n: number) => new Blob([new Uint8Array(n)]).stream();
    expect((await readAtMost(body(100), 100))?.length).toBe(100);
    expect(await readAtMost(body(101), 100)).toBeUndefined();
  });

  it('lists an endless note as unreadable and opens the other notes', async () => {
    const objects = await twoNotes();
    const hugeKey = `p/${me.fingerprint}/inbox/${'f'.repeat(32)}`;
    const stub = stubS3(objects, hugeKey);
    const inbox = await readInbox(peopleStorageOver(stub.client, 'b'), 'p/', me);
    expect(inbox.notes.map((n) => n.name).sort()).toEqual(['a.txt', 'b.txt']);
    expect(inbox.unreadable).toHaveLength(1);
    expect(inbox.unreadable[0]).toMatchObject({
      noteKey: hugeKey,
      error: { code: 'RECORD_TOO_LARGE' },
    });
    expect(stub.ranges.every((r) => r === `bytes=0-${64 * 1024}`)).toBe(true);
    expect(stub.pulled.bytes).toBeLessThanOrEqual(64 * 1024 + 2 * CHUNK_BYTES);
  });

  it('refuses an endless directory entry and goes on with the listing', async () => {
    const stub = stubS3(new Map(), `p/${'a'.repeat(64)}.json`);
    const listing = await listPeople(peopleStorageOver(stub.client, 'b'), 'p/');
    expect(listing.refused).toHaveLength(1);
    expect(listing.refused[0]!.error.code).toBe('RECORD_TOO_LARGE');
    expect(stub.pulled.bytes).toBeLessThanOrEqual(16 * 1024 + 2 * CHUNK_BYTES);
  });

  it('refuses an endless list of share links', async () => {
    const stub = stubS3(new Map(), 'links/x');
    await expect(linkListStorageFor(stub.client, 'b').read('links/x')).rejects.toMatchObject({
      code: 'RECORD_TOO_LARGE',
    });
    expect(stub.ranges).toEqual([`bytes=0-${1024 * 1024}`]);
  });

  it('caps how many notes one view reads, and says how many more there are', async () => {
    const objects = await twoNotes();
    const stub = stubS3(objects, 'elsewhere/none');
    const inbox = await readInbox(peopleStorageOver(stub.client, 'b'), 'p/', me, undefined, 1);
    expect(inbox.notes).toHaveLength(1);
    expect(inbox.notRead).toBe(1);
    expect(stub.ranges).toHaveLength(1);
  });
});
