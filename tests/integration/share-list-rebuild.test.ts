/**
 * [Note: rebuilding a list of links] against moto, by the function the Share dialog's "Rebuild
 * list" calls (rebuildShareList). The attack: whoever can write to the bucket replaces a file's
 * list of links by garbage, which blocks new links on the file. Rebuilding must make new links
 * possible again without losing a working one: every EDK stays in the header and the old link
 * still opens the file. A PUT that fails must leave the list object and the file as they were.
 */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import {
  createShareLink,
  fileShareLinks,
  linkKeyring,
  type ShareContext,
} from '../../src/aws/share-link';
import { rebuildShareList } from '../../src/aws/share-list-repair';
import { decryptBytes, keysNeeded, parseHeaderBytes } from '../../src/core';
import type { Keyring } from '../../src/core';
import { payloadOfLink } from '../../src/core/share-link';
import { nodeRewrapS3 } from '../../src/transfer/node';
import { linkListKey } from '../../src/transfer/share-list';
import {
  rawKeyring,
  readObject,
  rejection,
  sameBytes,
  startRewrapMoto,
  storeMessage,
  type RewrapMoto,
} from './rewrap-moto';
import { testKeyBytes } from '../unit/core/helpers';

vi.setConfig({ testTimeout: 120_000 });

const BUCKET = 'veil-share-rebuild';
const ROOT = 'team/';
const GARBAGE = new Uint8Array(300).fill(7);
let stack: RewrapMoto;
let owner: Keyring;

beforeAll(async () => {
  stack = await startRewrapMoto(BUCKET);
  owner = await rawKeyring(testKeyBytes(256, 43), 'owner');
}, 60_000);
afterAll(() => stack?.stop());

function context(key: string, client: S3Client = stack.client): ShareContext {
  return {
    client,
    rewrapS3: nodeRewrapS3(stack.client),
    bucket: BUCKET,
    root: ROOT,
    key,
    openWith: owner,
    wrapWith: owner,
    context: { 'veil-app': 'veil' },
    bindingRule: 'if-present',
  };
}

/** Every EDK of the stored file's header, as provider id and key name. */
async function edksOf(key: string): Promise<string[]> {
  const header = parseHeaderBytes(await readObject(stack, key));
  return keysNeeded(header).map((k) => `${k.providerId}/${k.keyName}`);
}

async function makeLink(key: string, label: string) {
  const made = await createShareLink(context(key), {
    requestedSeconds: 3600,
    appBase: 'http://app.example/',
    label,
  });
  const payload = payloadOfLink(made.link);
  return { id: made.entry.id, linkKey: payload.linkKey };
}

/** The plaintext the link's key opens from the stored file, or undefined. */
async function openWithLink(key: string, link: { id: string; linkKey: Uint8Array }) {
  return decryptBytes(await readObject(stack, key), {
    keyring: await linkKeyring(link.id, link.linkKey),
  }).then(
    (bytes) => bytes,
    () => undefined,
  );
}

async function garbageOver(key: string): Promise<string> {
  const listKey = await linkListKey({ bucket: BUCKET, root: ROOT }, key);
  await stack.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: listKey, Body: GARBAGE }));
  return listKey;
}

/** A client that sends everything to moto but refuses every PutObject. */
function clientRefusingPuts(): S3Client {
  const refusing = {
    send(command: unknown, options?: unknown) {
      if (command instanceof PutObjectCommand) {
        return Promise.reject(Object.assign(new Error(''), { name: 'AccessDenied' }));
      }
      return (stack.client.send as (c: unknown, o?: unknown) => Promise<unknown>)(command, options);
    },
  };
  return Object.assign(Object.create(stack.client) as S3Client, refusing);
}

describe('Rebuild list', () => {
  test('garbage list → rebuild → the old link still opens and a new link works', async () => {
    const key = 'team/rebuild.bin';
    const { plaintext } = await storeMessage(stack, key, 70_000, owner);
    const old = await makeLink(key, 'Ada');
    await garbageOver(key);
    const edksBefore = await edksOf(key);

    // The attack blocks new links.
    const blocked = await rejection(makeLink(key, 'Bob'));
    expect(blocked.code).toBe('MALFORMED');
    expect(await edksOf(key)).toEqual(edksBefore);

    const after = await rebuildShareList(context(key));
    expect(after.listError).toBeUndefined();
    expect(after.links.map((l) => [l.id, l.inFile])).toEqual([[old.id, true]]);
    expect(after.links[0]?.entry).toMatchObject({ label: 'Unknown link', detailsUnknown: true });
    // Rebuilding wrote only the list: every EDK is still in the header, the old link opens.
    expect(await edksOf(key)).toEqual(edksBefore);
    expect(sameBytes((await openWithLink(key, old))!, plaintext)).toBe(true);

    const fresh = await makeLink(key, 'Bob');
    expect(sameBytes((await openWithLink(key, fresh))!, plaintext)).toBe(true);
    expect(sameBytes((await openWithLink(key, old))!, plaintext)).toBe(true);
    const listed = await fileShareLinks(context(key));
    expect(listed.listError).toBeUndefined();
    expect(listed.links.map((l) => [l.id, l.entry?.label])).toEqual([
      [old.id, 'Unknown link'],
      [fresh.id, 'Bob'],
    ]);
  });

  test('a failed PUT leaves the list object and the file as they were, and says so', async () => {
    const key = 'team/rebuild-fails.bin';
    await storeMessage(stack, key, 20_000, owner);
    const old = await makeLink(key, 'Ada');
    const listKey = await garbageOver(key);
    const fileBefore = await readObject(stack, key);

    const error = await rejection(rebuildShareList(context(key, clientRefusingPuts())));
    expect(error.code).toBe('SHARE_LIST_REBUILD_FAILED');
    expect(error.message).toContain('left as it was');
    expect(error.message).toContain('AccessDenied');

    expect(sameBytes(await readObject(stack, listKey), GARBAGE)).toBe(true);
    expect(sameBytes(await readObject(stack, key), fileBefore)).toBe(true);
    expect((await fileShareLinks(context(key))).listError?.code).toBe('MALFORMED');
    expect(await openWithLink(key, old)).toBeDefined();
  });

  test('a readable list is not rebuilt', async () => {
    const key = 'team/rebuild-readable.bin';
    await storeMessage(stack, key, 20_000, owner);
    await makeLink(key, 'Ada');
    const listKey = await linkListKey({ bucket: BUCKET, root: ROOT }, key);
    const listBefore = await readObject(stack, listKey);
    const error = await rejection(rebuildShareList(context(key)));
    expect(error.code).toBe('SHARE_LIST_CHANGED');
    expect(sameBytes(await readObject(stack, listKey), listBefore)).toBe(true);
  });
});
