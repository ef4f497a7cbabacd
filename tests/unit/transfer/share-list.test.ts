/**
 * [Note: share links list]: a file's list is stored encrypted under a hash of the object key (no
 * name in the bucket), opens only with a key of the location, refuses a list copied from
 * another file, and two writers racing on it keep both entries (If-Match / If-None-Match).
 */
import { describe, expect, it } from 'vitest';
import type { Keyring } from '../../../src/core';
import { RawAesKeyring } from '../../../src/keyrings/raw-aes';
import {
  LINKS_FOLDER,
  changeLinks,
  linkListKey,
  readLinks,
  type LinkEntry,
  type LinkListStorage,
  type LinkListTarget,
} from '../../../src/transfer/share-list';

const LOCATION = { bucket: 'veil-files', root: 'team/' };
const CONTEXT = { 'veil-app': 'veil', 'veil-bucket': 'veil-files' };

function keyring(seed: number): Promise<Keyring> {
  const keyBytes = Uint8Array.from({ length: 32 }, (_, i) => (i * 3 + seed) & 0xff);
  return RawAesKeyring.fromBytes({ keyBytes, keyName: `k${seed}`, keyNamespace: 'veil' });
}

/** A bucket in memory with ETags and conditional writes; `beforeWrite` lets a test race. */
function memoryStorage() {
  const objects = new Map<string, { body: Uint8Array; etag: string }>();
  let version = 0;
  const hooks: { beforeWrite?: () => Promise<void> } = {};
  const storage: LinkListStorage = {
    read: (key) => Promise.resolve(objects.get(key)),
    async write(key, body, condition) {
      const hook = hooks.beforeWrite;
      hooks.beforeWrite = undefined;
      await hook?.();
      const current = objects.get(key);
      const ok = 'ifMatch' in condition ? current?.etag === condition.ifMatch : !current;
      if (ok) objects.set(key, { body: body.slice(), etag: `"${++version}"` });
      return ok;
    },
    remove(key, ifMatch) {
      if (objects.get(key)?.etag !== ifMatch) return Promise.resolve(false);
      objects.delete(key);
      return Promise.resolve(true);
    },
  };
  return { storage, objects, hooks };
}

const entry = (id: string): LinkEntry => ({
  id: id.padEnd(22, 'A'),
  createdAtMs: 1,
  expiresAtMs: 2,
  label: 'Ada',
  nameIncluded: false,
});

async function target(
  storage: LinkListStorage,
  objectKey = 'team/cmVwb3J0',
  seed = 1,
): Promise<LinkListTarget> {
  const key = await keyring(seed);
  return { storage, location: LOCATION, objectKey, openWith: key, wrapWith: key, context: CONTEXT };
}

describe('share links list', () => {
  it('lives under .veil/links/ at the hex SHA-256 of the object key, encrypted', async () => {
    const { storage, objects } = memoryStorage();
    const t = await target(storage, 'team/secret-plan.txt');
    await changeLinks(t, () => [entry('one')]);
    const [key] = [...objects.keys()];
    expect(key).toBe(await linkListKey(LOCATION, 'team/secret-plan.txt'));
    expect(key).toMatch(new RegExp(`^team/${LINKS_FOLDER.replace('.', '\\.')}[0-9a-f]{64}$`));
    const stored = new TextDecoder('latin1').decode(objects.get(key!)!.body);
    expect(stored).not.toContain('secret-plan');
    expect(stored).not.toContain('Ada');
    expect(await readLinks(t)).toEqual([entry('one')]);
  });

  it('an empty list is deleted; a file without a list has no links', async () => {
    const { storage, objects } = memoryStorage();
    const t = await target(storage);
    expect(await readLinks(t)).toEqual([]);
    await changeLinks(t, () => [entry('one')]);
    await changeLinks(t, (entries) => entries.filter((e) => e.id !== entry('one').id));
    expect(objects.size).toBe(0);
  });

  it('two writers racing keep both entries', async () => {
    const { storage, hooks } = memoryStorage();
    const t = await target(storage);
    await changeLinks(t, () => [entry('one')]);
    // Writer B reads, then writer A writes in between B's read and B's write: B's If-Match fails,
    // B reads again and adds its entry to A's list.
    hooks.beforeWrite = async () => {
      await changeLinks(t, (entries) => [...entries, entry('two')]);
    };
    await changeLinks(t, (entries) => [...entries, entry('three')]);
    const ids = (await readLinks(t)).map((e) => e.id).sort();
    expect(ids).toEqual([entry('one').id, entry('three').id, entry('two').id].sort());
  });

  it('two creators racing on a new list keep both entries (If-None-Match)', async () => {
    const { storage, hooks } = memoryStorage();
    const t = await target(storage);
    hooks.beforeWrite = async () => {
      await changeLinks(t, () => [entry('first')]);
    };
    await changeLinks(t, (entries) => [...entries, entry('second')]);
    expect((await readLinks(t)).map((e) => e.id)).toEqual([entry('first').id, entry('second').id]);
  });

  it('another key does not open it', async () => {
    const { storage } = memoryStorage();
    await changeLinks(await target(storage), () => [entry('one')]);
    await expect(readLinks(await target(storage, undefined, 2))).rejects.toMatchObject({
      code: 'MALFORMED',
    });
  });

  it('a list copied over another file’s list is refused (bound to its own key)', async () => {
    const { storage, objects } = memoryStorage();
    const a = await target(storage, 'team/a');
    const b = await target(storage, 'team/b');
    await changeLinks(a, () => [entry('one')]);
    await changeLinks(b, () => [entry('two')]);
    const aKey = await linkListKey(LOCATION, 'team/a');
    const bKey = await linkListKey(LOCATION, 'team/b');
    objects.set(bKey, objects.get(aKey)!);
    await expect(readLinks(b)).rejects.toMatchObject({ code: 'OBJECT_MISMATCH' });
  });

  it('refuses a list whose JSON is not a list of links', async () => {
    const { storage } = memoryStorage();
    const t = await target(storage);
    await changeLinks(t, () => [{ ...entry('one'), label: 7 as unknown as string }]).catch(
      () => undefined,
    );
    await expect(readLinks(t)).rejects.toMatchObject({ code: 'MALFORMED' });
  });
});
