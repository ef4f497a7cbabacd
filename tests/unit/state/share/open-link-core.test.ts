/**
 * The link page's core with fakes: a malformed fragment, a link past its stated expiry (no
 * request made), S3's expired answer, a header without the link's EDK (revoked), a download
 * (progress, done), a wrong key in plain words, refused with no save dialog (the header is opened
 * with the link key before Download is offered), and the in-memory limit where the browser can
 * neither pick a file nor stream, checked before any sink is opened.
 */
import { describe, expect, it } from 'vitest';
import { VeilError } from '../../../../src/core/errors';
import type { MessageHeader } from '../../../../src/core/header';
import { encodeSharePayload, newLinkId, type SharePayload } from '../../../../src/core/share-link';
import {
  OpenLinkCore,
  linkErrorText,
  savedText,
  sharedByView,
  type LinkView,
  type OpenLinkDeps,
} from '../../../../src/state/share/open-link-core';
import type { DownloadSink } from '../../../../src/transfer/download-setup';

const NOW = 1_700_000_000_000;
const payload = (extra: Partial<SharePayload> = {}): SharePayload => ({
  url: 'https://s3.example/b/k?X-Amz-Signature=1',
  bucket: 'b',
  key: 'k',
  linkId: newLinkId(),
  linkKey: new Uint8Array(32).fill(1),
  sizeBytes: 100,
  sharedBy: 'Ada',
  expiresAtMs: NOW + 60_000,
  ...extra,
});
const HEADER = {} as MessageHeader;
const SINK: DownloadSink = {
  write: () => Promise.resolve(),
  close: () => Promise.resolve(),
  abort: () => Promise.resolve(),
};

function run(overrides: Partial<OpenLinkDeps> = {}) {
  const views: LinkView[] = [];
  const calls: string[] = [];
  const deps: OpenLinkDeps = {
    nowMs: () => NOW,
    readHeader: () => {
      calls.push('header');
      return Promise.resolve(HEADER);
    },
    hasLinkEdk: () => true,
    checkKey: () => {
      calls.push('key');
      return Promise.resolve();
    },
    chooseSink: () => {
      calls.push('sink');
      return Promise.resolve(SINK);
    },
    canStream: () => true,
    memoryLimitBytes: 1000,
    download: (_payload, _sink, onProgress) => {
      onProgress({ writtenBytes: 50, totalBytes: 100 } as Parameters<typeof onProgress>[0]);
      return Promise.resolve({ writtenBytes: 100 } as Awaited<
        ReturnType<OpenLinkDeps['download']>
      >);
    },
    ...overrides,
  };
  const core = new OpenLinkCore(deps, (view) => views.push(view));
  return { core, views, calls, last: () => views.at(-1) };
}

describe('OpenLinkCore', () => {
  it('a malformed fragment', async () => {
    const { core, last, calls } = run();
    await core.open('garbage!');
    expect(last()).toMatchObject({ state: 'malformed' });
    expect(calls).toEqual([]);
  });

  it('a link past its stated expiry: the expired page, no request', async () => {
    const { core, last, calls } = run();
    await core.open(encodeSharePayload(payload({ expiresAtMs: NOW })));
    expect(last()?.state).toBe('expired');
    expect(calls).toEqual([]);
  });

  it('S3 says the URL expired: the expired page', async () => {
    const { core, last } = run({
      readHeader: () => Promise.reject(new VeilError('SHARE_LINK_EXPIRED', 'Request has expired')),
    });
    await core.open(encodeSharePayload(payload()));
    expect(last()?.state).toBe('expired');
  });

  it('a header without the link’s EDK: revoked', async () => {
    const { core, last } = run({ hasLinkEdk: () => false });
    await core.open(encodeSharePayload(payload()));
    expect(last()?.state).toBe('revoked');
  });

  it('an object that is not a message is not offered for download', async () => {
    const { core, last } = run({ readHeader: () => Promise.resolve(undefined) });
    await core.open(encodeSharePayload(payload()));
    expect(last()).toMatchObject({ state: 'refused', error: { code: 'OBJECT_MISMATCH' } });
  });

  it('downloads with progress to done', async () => {
    const { core, views, last } = run();
    await core.open(encodeSharePayload(payload()));
    await core.download();
    expect(views.map((v) => v.state)).toEqual([
      'checking',
      'ready',
      'downloading',
      'downloading',
      'done',
    ]);
    expect(last()).toMatchObject({ state: 'done', writtenBytes: 100 });
  });

  it('a wrong key found by the download: WRONG_KEY, said plainly', async () => {
    const { core, last } = run({
      download: () => Promise.reject(new VeilError('WRONG_KEY', 'key')),
    });
    await core.open(encodeSharePayload(payload()));
    await core.download();
    const view = last();
    expect(view).toMatchObject({ state: 'refused', error: { code: 'WRONG_KEY' } });
    if (view?.state === 'refused') {
      expect(linkErrorText(view.error)).toContain('link was changed or damaged');
    }
  });

  it('no picker and no service worker: over the in-memory limit is refused before any sink', async () => {
    const { core, last, calls } = run({ canStream: () => false });
    await core.open(encodeSharePayload(payload({ sizeBytes: 1001 })));
    await core.download();
    expect(last()).toMatchObject({ state: 'ready', error: { code: 'SHARE_TOO_LARGE_IN_MEMORY' } });
    expect(calls).toEqual(['header', 'key']);
  });

  it('a wrong link key: refused when the link opens, before any save dialog', async () => {
    let sinks = 0;
    const { core, last, calls } = run({
      checkKey: () => Promise.reject(new VeilError('WRONG_KEY', 'key')),
      chooseSink: () => {
        sinks += 1;
        return Promise.resolve(SINK);
      },
    });
    await core.open(encodeSharePayload(payload()));
    expect(last()).toMatchObject({ state: 'refused', error: { code: 'WRONG_KEY' } });
    await core.download();
    expect(last()).toMatchObject({ state: 'refused', error: { code: 'WRONG_KEY' } });
    expect(sinks).toBe(0);
    expect(calls).toEqual(['header', 'header']);
  });

  it('an object bound elsewhere (or not at all): refused, no save dialog', async () => {
    const { core, last, calls } = run({
      checkKey: () => Promise.reject(new VeilError('OBJECT_MISMATCH', 'bound elsewhere')),
    });
    await core.open(encodeSharePayload(payload()));
    await core.download();
    expect(last()).toMatchObject({ state: 'refused', error: { code: 'OBJECT_MISMATCH' } });
    expect(calls).not.toContain('sink');
  });

  it('the save dialog is offered the name without controls or bidirectional marks', async () => {
    const names: string[] = [];
    const { core } = run({
      chooseSink: (name) => {
        names.push(name);
        return Promise.resolve(SINK);
      },
    });
    await core.open(encodeSharePayload(payload({ name: 'photo\u202Egnp.exe\u0007' })));
    await core.download();
    expect(names).toEqual(['photognp.exe']);
  });

  it('a check that failed on the network runs again at Download, before the save dialog', async () => {
    let reads = 0;
    const { core, last, calls } = run({
      readHeader: () => {
        reads += 1;
        calls.push('header');
        return reads === 1
          ? Promise.reject(new VeilError('S3_UNREACHABLE', 'offline'))
          : Promise.resolve(HEADER);
      },
    });
    await core.open(encodeSharePayload(payload()));
    expect(last()).toMatchObject({ state: 'ready', error: { code: 'S3_UNREACHABLE' } });
    await core.download();
    expect(last()?.state).toBe('done');
    expect(calls).toEqual(['header', 'header', 'key', 'sink']);
  });

  it('the link key leaves the address bar once it opened the file, not while it is still needed', async () => {
    const forgot: string[] = [];
    const opened = run({ forgetLink: () => forgot.push('ready') });
    await opened.core.open(encodeSharePayload(payload()));
    expect(opened.last()?.state).toBe('ready');
    expect(forgot).toEqual(['ready']);

    // Revoked or refused: the key can do no more on this page.
    const revoked = run({ hasLinkEdk: () => false, forgetLink: () => forgot.push('revoked') });
    await revoked.core.open(encodeSharePayload(payload()));
    expect(forgot).toContain('revoked');

    // Expired: nothing opened with the key, and a reload checks it again.
    const expired = run({ forgetLink: () => forgot.push('expired') });
    await expired.core.open(encodeSharePayload(payload({ expiresAtMs: NOW })));
    // A network failure: the key is still needed to check again at Download.
    const offline = run({
      readHeader: () => Promise.reject(new VeilError('S3_UNREACHABLE', 'offline')),
      forgetLink: () => forgot.push('offline'),
    });
    await offline.core.open(encodeSharePayload(payload()));
    expect(forgot).toEqual(['ready', 'revoked']);
  });

  it('a reload after the key left the address bar asks for the link again', async () => {
    const { core, last, calls } = run();
    await core.open('');
    expect(last()).toEqual({ state: 'forgotten' });
    expect(calls).toEqual([]);
  });
});

describe('what the page claims', () => {
  it('shows the sharer’s label as the link’s unverified claim, escaped', () => {
    // Anyone who can store an object in the bucket can make a link naming anyone.
    const by = sharedByView('IT Security\u202Etxt.exe\u0007');
    expect(by.verified).toBe(false);
    expect(by.note).toBe('(as written in the link, not verified)');
    expect(by.claimed).toBe('IT Security\\u202etxt.exe\\u0007');
    expect(by.claimed).not.toContain('\u202E');
    expect(sharedByView(undefined).claimed).toBeUndefined();
    expect(sharedByView('').claimed).toBeUndefined();
  });

  it('says verified only of the file’s integrity and binding, not of who shared it', () => {
    const text = savedText('1.2 MiB');
    expect(text).toContain('its integrity is verified');
    expect(text).toContain('it is the file this link names');
    expect(text).toContain('Who made the link is not verified');
    expect(text).not.toContain('decrypted and verified');
  });
});
