/**
 * [Note: links from the header] against moto, by the functions the Share dialog calls
 * (fileShareLinks, revokeShareLink over the rewrap engine). The attacks, by whoever can write to
 * the bucket: the file's list of links is deleted, or replaced by garbage, or by the list of
 * another file. In each case the link's key is still in the file's header, so the link still opens
 * the file: the dialog's listing must still show it (as unknown: not in the list) and revoking it
 * must take its key out of the header. A listed entry whose key the file lacks is shown as such.
 */
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import {
  createShareLink,
  fileShareLinks,
  linkKeyring,
  revokeShareLink,
  type ShareContext,
} from '../../src/aws/share-link';
import { LINK_PROVIDER_ID, decryptBytes, keysNeeded, parseHeaderBytes } from '../../src/core';
import type { Keyring } from '../../src/core';
import { payloadOfLink } from '../../src/core/share-link';
import { nodeRewrapS3 } from '../../src/transfer/node';
import { changeLinks, linkListKey } from '../../src/transfer/share-list';
import { linkListStorageFor } from '../../src/aws/share-storage';
import {
  rawKeyring,
  readObject,
  startRewrapMoto,
  storeMessage,
  type RewrapMoto,
} from './rewrap-moto';
import { testKeyBytes } from '../unit/core/helpers';

vi.setConfig({ testTimeout: 120_000 });

const BUCKET = 'veil-share-header';
const ROOT = 'team/';
let stack: RewrapMoto;
let owner: Keyring;

beforeAll(async () => {
  stack = await startRewrapMoto(BUCKET);
  owner = await rawKeyring(testKeyBytes(256, 41), 'owner');
}, 60_000);
afterAll(() => stack?.stop());

function context(key: string): ShareContext {
  return {
    client: stack.client,
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

async function linkIdsInHeader(key: string): Promise<string[]> {
  const header = parseHeaderBytes(await readObject(stack, key));
  return keysNeeded(header)
    .filter((k) => k.providerId === LINK_PROVIDER_ID)
    .map((k) => k.keyName);
}

/** Makes a link on a new file; returns its id and key (from the link's payload). */
async function fileWithLink(key: string) {
  const { plaintext } = await storeMessage(stack, key, 70_000, owner);
  const made = await createShareLink(context(key), {
    requestedSeconds: 3600,
    appBase: 'http://app.example/',
    label: 'Ada',
  });
  const fragment = made.link.slice(made.link.indexOf('#/share/') + '#/share/'.length);
  const payload = payloadOfLink(`http://app.example/#/share/${fragment}`);
  expect(await linkIdsInHeader(key)).toEqual([made.entry.id]);
  return { id: made.entry.id, linkKey: payload.linkKey, plaintext };
}

/** Whether the link's key opens the stored file now. */
async function linkOpens(key: string, id: string, linkKey: Uint8Array): Promise<boolean> {
  return decryptBytes(await readObject(stack, key), { keyring: await linkKeyring(id, linkKey) })
    .then(() => true)
    .catch(() => false);
}

describe('the Share dialog lists links from the header', () => {
  test('a deleted list: the link shows as unknown and revoking it takes its key out', async () => {
    const key = 'team/deleted-list.bin';
    const link = await fileWithLink(key);
    const listed = await fileShareLinks(context(key));
    expect(listed.links).toMatchObject([{ id: link.id, inFile: true, entry: { label: 'Ada' } }]);

    const listKey = await linkListKey({ bucket: BUCKET, root: ROOT }, key);
    await stack.client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: listKey }));
    // The attack: the link still opens the file, and the list no longer knows it.
    expect(await linkOpens(key, link.id, link.linkKey)).toBe(true);
    const after = await fileShareLinks(context(key));
    expect(after).toEqual({ links: [{ id: link.id, inFile: true }], people: [] });

    await revokeShareLink(context(key), link.id);
    expect(await linkIdsInHeader(key)).toEqual([]);
    expect(await linkOpens(key, link.id, link.linkKey)).toBe(false);
    expect((await fileShareLinks(context(key))).links).toEqual([]);
  });

  test('a list replaced by garbage: shown from the header with the list’s error; revoke works', async () => {
    const key = 'team/garbage-list.bin';
    const link = await fileWithLink(key);
    const listKey = await linkListKey({ bucket: BUCKET, root: ROOT }, key);
    await stack.client.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: listKey, Body: new Uint8Array(300).fill(9) }),
    );
    const after = await fileShareLinks(context(key));
    expect(after.links).toEqual([{ id: link.id, inFile: true }]);
    expect(after.listError?.code).toBe('MALFORMED');

    await revokeShareLink(context(key), link.id);
    expect(await linkIdsInHeader(key)).toEqual([]);
    expect(await linkOpens(key, link.id, link.linkKey)).toBe(false);
  });

  test('another file’s list copied over: refused (OBJECT_MISMATCH), the real link still shown', async () => {
    const key = 'team/swapped-list.bin';
    const other = 'team/other.bin';
    const link = await fileWithLink(key);
    const decoy = await fileWithLink(other);
    const ours = await linkListKey({ bucket: BUCKET, root: ROOT }, key);
    const theirs = await linkListKey({ bucket: BUCKET, root: ROOT }, other);
    await stack.client.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: ours, Body: await readObject(stack, theirs) }),
    );
    const after = await fileShareLinks(context(key));
    expect(after.links).toEqual([{ id: link.id, inFile: true }]);
    expect(after.links.some((l) => l.id === decoy.id)).toBe(false);
    expect(after.listError?.code).toBe('OBJECT_MISMATCH');
    await revokeShareLink(context(key), link.id);
    expect(await linkOpens(key, link.id, link.linkKey)).toBe(false);
  });

  test('a listed entry whose key the file lacks is shown as not in the file; removing it', async () => {
    const key = 'team/stale-entry.bin';
    const link = await fileWithLink(key);
    const target = {
      storage: linkListStorageFor(stack.client, BUCKET),
      location: { bucket: BUCKET, root: ROOT },
      objectKey: key,
      openWith: owner,
      wrapWith: owner,
      context: { 'veil-app': 'veil' },
    };
    const stale = {
      id: 'S'.repeat(22),
      createdAtMs: 1,
      expiresAtMs: 2,
      label: '',
      nameIncluded: false,
    };
    await changeLinks(target, (entries) => [...entries, stale]);
    const listed = await fileShareLinks(context(key));
    expect(listed.links.map((l) => [l.id, l.inFile])).toEqual([
      [stale.id, false],
      [link.id, true],
    ]);
    await revokeShareLink(context(key), stale.id);
    expect((await fileShareLinks(context(key))).links.map((l) => l.id)).toEqual([link.id]);
    expect(await linkIdsInHeader(key)).toEqual([link.id]);
  });
});
