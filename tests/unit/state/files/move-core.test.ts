/**
 * "Rename…" and "Move…" on injected deps: the field's checks (NAME_INVALID's rules, the same
 * name, the folder it is in, a folder into itself) and the path each input asks for; open finds
 * the clear path through the location's names (plain and private) and refuses a name that does
 * not open; plan lists the source's stored prefix (every page) and shows what is left and why;
 * start runs each object to its destination with the session's keyring and the location's
 * binding rule, with a result per object (MOVE_DESTINATION_EXISTS in the catalogue's words);
 * cancel, and a session without keys.
 */
import { describe, expect, it } from 'vitest';
import { VeilError, createNameCipher } from '../../../../src/core';
import type { Keyring } from '../../../../src/core';
import type { ListPage } from '../../../../src/aws/bucket-s3';
import { plainNames, privateNames } from '../../../../src/transfer/location-names';
import type { LocationNames } from '../../../../src/transfer/location-names';
import type { RewrapResult, RewrapSetup } from '../../../../src/transfer/rewrap-options';
import type { RewrapS3 } from '../../../../src/transfer/rewrap-s3';
import {
  MoveCore,
  firstFailure,
  folderPath,
  inputProblem,
  listAll,
  targetPath,
  type MoveDeps,
  type MoveView,
} from '../../../../src/state/files/move-core';

const ROOT = 'users/u1/';
const BUCKET = 'bucket';
const location = { bucket: BUCKET, root: ROOT };
const keyring = { onDecrypt: () => Promise.resolve(undefined) } as unknown as Keyring;

function secretNames(seed = 7): LocationNames {
  return privateNames(location, createNameCipher(new Uint8Array(64).fill(seed)));
}

interface World {
  names: LocationNames;
  /** Clear paths below the root, with their sizes. */
  objects: Record<string, number>;
  /** Stored keys that no clear path maps to (another names key). */
  foreign?: string[];
  /** Destination keys already taken. */
  taken?: Set<string>;
  keyring?: Keyring | undefined;
  /** Moves wait until cancelled. */
  hold?: boolean;
}

function fakeDeps(world: World) {
  const setups: RewrapSetup[] = [];
  const listed: string[] = [];
  const stored = () => [
    ...Object.entries(world.objects).map(([path, sizeBytes]) => ({
      key: world.names.objectKey(path),
      sizeBytes,
    })),
    ...(world.foreign ?? []).map((key) => ({ key, sizeBytes: 5 })),
  ];
  const deps: MoveDeps = {
    bucket: BUCKET,
    names: () => Promise.resolve(world.names),
    list: (prefix) => {
      listed.push(prefix);
      return Promise.resolve(stored().filter((object) => object.key.startsWith(prefix)));
    },
    rewrapS3: () => ({}) as RewrapS3,
    readKeyring: () => Promise.resolve('keyring' in world ? world.keyring : keyring),
    concurrency: 1,
    rewrap: (setup) => {
      setups.push(setup);
      if (world.hold) {
        // Held until cancelled, as a move in flight.
        return new Promise<RewrapResult>((_, reject) =>
          setup.signal?.addEventListener('abort', () => reject(new VeilError('REWRAP_CANCELLED'))),
        );
      }
      if (world.taken?.has(setup.destinationKey ?? '')) {
        return Promise.reject(new VeilError('MOVE_DESTINATION_EXISTS', 'PreconditionFailed'));
      }
      return Promise.resolve({
        bucket: BUCKET,
        key: setup.destinationKey ?? setup.key,
        method: 'put',
        partCount: 1,
        etag: '"new"',
        oldEtag: '"old"',
        objectBytes: 10,
        oldObjectBytes: 10,
        removed: [],
        added: [],
        receivedBytes: 1,
        sentBytes: 1,
        copiedBytes: 0,
        movedFrom: { key: setup.key, deleted: true },
      } satisfies RewrapResult);
    },
  };
  return { deps, setups, listed };
}

describe('the field', () => {
  it('refuses what NAME_INVALID refuses, and the same name, as the user types', () => {
    const from = 'docs/plan.txt';
    expect(inputProblem('rename', from, '')).toBe('Type a name.');
    expect(inputProblem('rename', from, '.')).toMatch(/cannot be a name/);
    expect(inputProblem('rename', from, '..')).toMatch(/cannot be a name/);
    expect(inputProblem('rename', from, 'a/b')).toMatch(/“\/”/);
    expect(inputProblem('rename', from, 'bad\u0007name')).toMatch(/control characters/);
    expect(inputProblem('rename', from, 'tab\tname')).toMatch(/control characters/);
    expect(inputProblem('rename', from, 'plan.txt')).toBe('That is its name already.');
    // NFD and NFC are one name.
    expect(inputProblem('rename', 'Übersicht', 'U\u0308bersicht')).toBe(
      'That is its name already.',
    );
    expect(inputProblem('rename', from, 'plan v2.txt')).toBeUndefined();
    expect(inputProblem('rename', 'docs/', 'papers')).toBeUndefined();
  });

  it('checks a destination folder segment by segment, and never into itself', () => {
    expect(inputProblem('move', 'docs/plan.txt', 'docs')).toBe('It is in that folder already.');
    expect(inputProblem('move', 'docs/plan.txt', '/docs/')).toBe('It is in that folder already.');
    expect(inputProblem('move', 'plan.txt', '')).toBe('It is in that folder already.');
    expect(inputProblem('move', 'docs/plan.txt', '')).toBeUndefined();
    expect(inputProblem('move', 'docs/plan.txt', 'a/../b')).toMatch(/cannot be a name.*“\.\.”/);
    expect(inputProblem('move', 'docs/plan.txt', 'a//b')).toMatch(/Type a name/);
    expect(inputProblem('move', 'a/docs/', 'a/docs/inner')).toBe(
      'A folder cannot go inside itself.',
    );
    expect(inputProblem('move', 'a/docs/', 'a/docs')).toBe('A folder cannot go inside itself.');
    expect(inputProblem('move', 'a/docs/', 'a/docs2')).toBeUndefined();
  });

  it('turns an input into the clear path it asks for', () => {
    expect(folderPath(' /a/b/ ')).toBe('a/b/');
    expect(folderPath('')).toBe('');
    expect(targetPath('rename', 'docs/plan.txt', 'q3.txt')).toBe('docs/q3.txt');
    expect(targetPath('rename', 'docs/old/', 'new')).toBe('docs/new/');
    expect(targetPath('rename', 'top.txt', 'x.txt')).toBe('x.txt');
    expect(targetPath('move', 'docs/plan.txt', 'archive/2026')).toBe('archive/2026/plan.txt');
    expect(targetPath('move', 'docs/old/', '')).toBe('old/');
  });
});

describe('listAll', () => {
  it('reads every page of a prefix, with sizes', async () => {
    const pages: ListPage[] = [
      {
        objects: [{ key: 'p/a', sizeBytes: 1, lastModifiedMs: undefined, etag: undefined }],
        folders: [],
        nextToken: 't',
      },
      {
        objects: [{ key: 'p/b', sizeBytes: 2, lastModifiedMs: undefined, etag: undefined }],
        folders: [],
        nextToken: undefined,
      },
    ];
    const asked: (string | undefined)[] = [];
    const s3 = {
      list: (request: { prefix: string; token?: string; delimiter?: string }) => {
        asked.push(request.delimiter);
        return Promise.resolve(pages[request.token ? 1 : 0]!);
      },
    };
    expect(await listAll(s3, 'p/')).toEqual([
      { key: 'p/a', sizeBytes: 1 },
      { key: 'p/b', sizeBytes: 2 },
    ]);
    expect(asked).toEqual([undefined, undefined]);
  });
});

describe('MoveCore', () => {
  it('renames a file of a private location: clear paths in, stored keys out', async () => {
    const names = secretNames();
    const world: World = { names, objects: { 'docs/plan.txt': 9000, 'docs/other.txt': 5 } };
    const { deps, setups, listed } = fakeDeps(world);
    const views: MoveView[] = [];
    const core = new MoveCore(deps, (view) => views.push(view));
    const key = names.objectKey('docs/plan.txt');
    await core.open('rename', { kind: 'file', key }, names.objectKey('docs/'));
    expect(core.view).toMatchObject({
      phase: 'editing',
      from: 'docs/plan.txt',
      initial: 'plan.txt',
    });

    await core.plan('q3 plan.txt');
    expect(core.view.phase).toBe('planned');
    expect(core.view.to).toBe('docs/q3 plan.txt');
    // 9000 bytes fit one PutObject: read and sent again whole, nothing copied inside S3.
    expect(core.view.plan?.totals).toMatchObject({ ready: 1, objectBytes: 9000, copiedBytes: 0 });
    expect(core.view.plan?.totals.clientBytes).toBeGreaterThan(2 * 9000 - 100);
    expect(core.view.taken).toBe(0);
    expect(listed).toEqual([key, names.objectKey('docs/q3 plan.txt')]);

    await core.start();
    expect(core.view.phase).toBe('finished');
    expect(core.changed).toBe(true);
    expect(setups).toHaveLength(1);
    expect(setups[0]).toMatchObject({
      key,
      destinationKey: names.objectKey('docs/q3 plan.txt'),
      bucket: BUCKET,
      openWith: keyring,
      bindingRule: 'required',
    });
    expect(setups[0]!.destinationKey).not.toContain('q3');
    expect(core.shown(setups[0]!.destinationKey!)).toBe('docs/q3 plan.txt');
    expect(core.shownMove(key)).toBe('docs/plan.txt → docs/q3 plan.txt');
    expect(views.map((view) => view.phase)).toContain('running');
  });

  it('moves a folder: every object below, each to its new clear path; unreadable ones stay', async () => {
    const names = secretNames();
    const foreignKey = `${names.objectKey('projects/q3/')}${'A'.repeat(43)}`;
    const world: World = {
      names,
      objects: {
        'projects/q3/plan.txt': 100,
        'projects/q3/notes/monday.md': 200,
        'projects/other.txt': 1,
        'archive/2026/q3/plan.txt': 7,
      },
      foreign: [foreignKey],
    };
    const { deps, setups } = fakeDeps(world);
    const core = new MoveCore(deps);
    await core.open('move', { kind: 'folder', key: names.objectKey('projects/q3/') }, names.root);
    expect(core.view).toMatchObject({ from: 'projects/q3/', initial: '' });
    await core.plan('archive/2026');
    expect(core.view.to).toBe('archive/2026/q3/');
    expect(core.view.plan?.totals).toMatchObject({ ready: 2, skipped: 1, objectBytes: 300 });
    // One new name is taken already: counted in the plan (the engine refuses to overwrite it).
    expect(core.view.taken).toBe(1);
    expect(core.view.skipped).toEqual([
      { key: foreignKey, code: 'NAME_UNREADABLE', detail: 'its name cannot be opened' },
    ]);
    await core.start();
    expect(setups.map((setup) => core.shown(setup.destinationKey!)).sort()).toEqual([
      'archive/2026/q3/notes/monday.md',
      'archive/2026/q3/plan.txt',
    ]);
    expect(core.view.run?.items.find((item) => item.key === foreignKey)?.state).toBe('skipped');
  });

  it('plain names: the key is the path; the binding is checked where present', async () => {
    const names = plainNames(location);
    const { deps, setups } = fakeDeps({ names, objects: { 'a/b.txt': 3 } });
    const core = new MoveCore(deps);
    await core.open('move', { kind: 'file', key: `${ROOT}a/b.txt` }, `${ROOT}a/`);
    expect(core.view.initial).toBe('a/');
    await core.plan('c');
    await core.start();
    expect(setups[0]).toMatchObject({
      key: `${ROOT}a/b.txt`,
      destinationKey: `${ROOT}c/b.txt`,
      bindingRule: 'if-present',
    });
  });

  it('a name already taken fails with MOVE_DESTINATION_EXISTS, in the catalogue’s words', async () => {
    const names = secretNames();
    const world: World = {
      names,
      objects: { 'a.txt': 3, 'b.txt': 4 },
      taken: new Set([names.objectKey('b.txt')]),
    };
    const { deps } = fakeDeps(world);
    const core = new MoveCore(deps);
    await core.open('rename', { kind: 'file', key: names.objectKey('a.txt') }, ROOT);
    await core.plan('b.txt');
    expect(core.view.taken).toBe(1);
    await core.start();
    expect(core.view.run?.progress).toMatchObject({ doneObjects: 0, failedObjects: 1 });
    expect(core.changed).toBe(false);
    const failure = firstFailure(core.view.run!);
    expect(failure?.code).toBe('MOVE_DESTINATION_EXISTS');
    expect(failure?.message).toMatch(/already exists/);
  });

  it('refuses a bad input, a name that does not open, and a session without keys', async () => {
    const names = secretNames();
    const { deps, listed } = fakeDeps({ names, objects: { 'a.txt': 3 } });
    const core = new MoveCore(deps);
    await core.open('rename', { kind: 'file', key: names.objectKey('a.txt') }, ROOT);
    await core.plan('a.txt');
    expect(core.view).toMatchObject({ phase: 'editing', error: { code: 'NAME_INVALID' } });
    expect(listed).toEqual([]);

    const other = secretNames(9);
    await core.open('rename', { kind: 'file', key: other.objectKey('x.txt') }, ROOT);
    expect(core.view).toMatchObject({ phase: 'failed', error: { code: 'NAME_UNREADABLE' } });

    const keyless = fakeDeps({ names, objects: { 'a.txt': 3 }, keyring: undefined });
    const locked = new MoveCore(keyless.deps);
    await locked.open('rename', { kind: 'file', key: names.objectKey('a.txt') }, ROOT);
    await locked.plan('z.txt');
    await locked.start();
    expect(locked.view).toMatchObject({ phase: 'planned', error: { code: 'NO_KEY_FOR_OBJECT' } });
    expect(keyless.setups).toEqual([]);
  });

  it('edit goes back to the field; close forgets; a cancelled run starts nothing', async () => {
    const names = secretNames();
    const world: World = { names, objects: { 'f/a': 1, 'f/b': 2 } };
    const { deps, setups } = fakeDeps(world);
    const core = new MoveCore(deps);
    await core.open('rename', { kind: 'folder', key: names.objectKey('f/') }, ROOT);
    await core.plan('g');
    core.edit();
    expect(core.view).toMatchObject({ phase: 'editing', plan: undefined });
    await core.plan('h');
    world.hold = true;
    const running = core.start();
    await expect.poll(() => setups.length).toBe(1);
    expect(core.busy).toBe(true);
    core.cancel();
    await running;
    expect(core.view.phase).toBe('finished');
    expect(core.view.run?.state).toBe('cancelled');
    expect(core.view.run?.items.map((item) => item.state)).toEqual(['cancelled', 'not-started']);
    expect(setups).toHaveLength(1);
    expect(core.busy).toBe(false);
    core.close();
    expect(core.view.phase).toBe('idle');
  });
});
