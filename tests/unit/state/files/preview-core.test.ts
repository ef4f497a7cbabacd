/**
 * The preview's logic against the download engine over an in-memory S3 ([Note: preview shows
 * only authenticated bytes]): what it shows, what it reads, and the attacks: a tampered last
 * frame, a forged signature on a signed message, a swapped object under private names, an
 * unencrypted object, a wrong key; each leaves nothing shown.
 */
import { describe, expect, test } from 'vitest';
import type { VeilConfig } from '../../../../src/aws/config';
import type { BindingRule, Keyring } from '../../../../src/core';
import { encryptBytes } from '../../../../src/core/one-shot';
import { FIRST_HEADER_BYTES } from '../../../../src/transfer/download';
import { PreviewCore, type PreviewDeps } from '../../../../src/state/files/preview-core';
import type { PreviewView } from '../../../../src/state/files/preview-view';
import {
  PEER_SUITE_0578,
  flipByte,
  ourKeyring,
  patternBytes,
  peer,
  peerKeyring,
  testKeyBytes,
} from '../../core/helpers';
import { FakeDownloadS3 } from '../../transfer/download-fake-s3';

const KEY = testKeyBytes(256);
const FRAME = 1024;
const config: VeilConfig = {
  region: 'us-east-1',
  bucket: 'b',
  prefix: '',
  endpoints: {},
  forcePathStyle: true,
};
const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

/** A text of `lengthBytes` ASCII bytes. */
const asciiText = (lengthBytes: number): Uint8Array =>
  Uint8Array.from({ length: lengthBytes }, (_, i) => 0x61 + (i % 26));

interface World {
  readonly s3: FakeDownloadS3;
  readonly views: PreviewView[];
  readonly blobs: Blob[];
  readonly revoked: string[];
  readonly core: PreviewCore;
  readonly last: () => PreviewView | undefined;
}

async function world(
  options: {
    keyring?: Keyring | null;
    rule?: BindingRule;
    textBytes?: number;
    maxBytes?: number;
  } = {},
): Promise<World> {
  const s3 = new FakeDownloadS3();
  const keyring =
    options.keyring === null ? undefined : (options.keyring ?? (await ourKeyring(KEY)));
  const views: PreviewView[] = [];
  const blobs: Blob[] = [];
  const revoked: string[] = [];
  const deps: PreviewDeps = {
    s3: () => s3,
    decryptor: () => undefined,
    readKeyring: () => Promise.resolve(keyring),
    bindingRule: () => Promise.resolve(options.rule ?? 'if-present'),
    createUrl: (blob) => {
      blobs.push(blob);
      return `blob:test/${blobs.length}`;
    },
    revokeUrl: (url) => revoked.push(url),
    ...(options.textBytes ? { textBytes: options.textBytes } : {}),
    ...(options.maxBytes ? { maxBytes: options.maxBytes } : {}),
  };
  const core = new PreviewCore(deps, (view) => views.push(view));
  return { s3, views, blobs, revoked, core, last: () => views.at(-1) };
}

const encrypt = async (plain: Uint8Array, key = 'k'): Promise<Uint8Array> =>
  encryptBytes(plain, {
    keyring: await ourKeyring(KEY),
    frameBytes: FRAME,
    location: { bucket: 'b', key },
  });

/** Views that show content: none may appear in a failed preview. */
const shown = (views: PreviewView[]) =>
  views.filter((view) => view.state === 'text' || view.state === 'media');

describe('PreviewCore', () => {
  test('text of a framed object: only the frames holding the first part are read', async () => {
    const w = await world({ textBytes: 1500 });
    const plain = asciiText(8 * FRAME + 10);
    const message = await encrypt(plain);
    w.s3.put('k', message);
    await w.core.open(config, { key: 'k', name: 'notes.txt' });
    expect(w.last()).toEqual({
      state: 'text',
      name: 'notes.txt',
      text: new TextDecoder().decode(plain.subarray(0, 1500)),
      shownBytes: 1500,
      totalBytes: plain.length,
      cut: true,
    });
    // Past the header's first GET (FIRST_HEADER_BYTES, whose bytes after the header are not
    // used), frames 3 to 8 (after the first two, before the final one) were never fetched.
    const headerBytes = message.length - (8 * (FRAME + 32) + 10 + 40);
    const frame3 = headerBytes + 2 * (FRAME + 32);
    const final = headerBytes + 8 * (FRAME + 32);
    const sniffs = w.s3.ranges.filter(([start, end]) => start === 0 && end === FIRST_HEADER_BYTES);
    expect(sniffs.length).toBeGreaterThan(0);
    for (const [start, end] of w.s3.ranges.filter((range) => !sniffs.includes(range))) {
      expect(end <= frame3 || start >= final, `range ${start}-${end}`).toBe(true);
    }
  });

  test('a whole small text shows without a note; an image becomes a typed blob, revoked on close', async () => {
    const w = await world();
    w.s3.put('k', await encrypt(utf8('héllo\n')));
    await w.core.open(config, { key: 'k', name: 'a.md' });
    expect(w.last()).toMatchObject({ state: 'text', text: 'héllo\n', cut: false, totalBytes: 7 });

    const png = patternBytes(3 * FRAME + 5, 4);
    w.s3.put('p', await encrypt(png, 'p'));
    await w.core.open(config, { key: 'p', name: 'photo.PNG' });
    expect(w.last()).toEqual({
      state: 'media',
      name: 'photo.PNG',
      kind: 'image',
      url: 'blob:test/1',
      sizeBytes: png.length,
    });
    // Typed from the name, whatever storage says (the fake answers application/octet-stream).
    expect(w.blobs[0]?.type).toBe('image/png');
    expect(new Uint8Array(await w.blobs[0]!.arrayBuffer())).toEqual(png);
    w.core.close();
    expect(w.revoked).toEqual(['blob:test/1']);
    expect(w.last()).toEqual({ state: 'idle' });
  });

  test('a tampered last frame: an error and nothing shown, for text and for an image', async () => {
    for (const name of ['notes.txt', 'photo.png']) {
      const w = await world();
      const message = await encrypt(asciiText(2 * FRAME + 100));
      flipByte(message, message.length - 20); // inside the final frame's ciphertext
      w.s3.put('k', message);
      await w.core.open(config, { key: 'k', name });
      expect(w.last()).toMatchObject({ state: 'failed', error: { code: 'FRAME_TAMPERED' } });
      expect(shown(w.views)).toEqual([]);
      expect(w.blobs).toEqual([]);
    }
  });

  test('a signed (0x0578) message shows only after its signature verifies; a forged one shows nothing', async () => {
    const plain = asciiText(5 * FRAME + 3);
    const { result } = await peer.encrypt(peerKeyring(KEY), Buffer.from(plain), {
      suiteId: PEER_SUITE_0578,
      frameLength: FRAME,
    });
    const good = await world();
    good.s3.put('k', new Uint8Array(result));
    await good.core.open(config, { key: 'k', name: 'clip.webm' });
    expect(good.last()).toMatchObject({ state: 'media', kind: 'video', sizeBytes: plain.length });
    await good.core.open(config, { key: 'k', name: 'notes.txt' });
    expect(good.last()).toMatchObject({ state: 'text', cut: false, totalBytes: plain.length });

    const forged = new Uint8Array(result);
    flipByte(forged, forged.length - 1); // the footer's signature
    for (const name of ['clip.webm', 'notes.txt']) {
      const bad = await world();
      bad.s3.put('k', forged);
      await bad.core.open(config, { key: 'k', name });
      expect(bad.last()).toMatchObject({ state: 'failed', error: { code: 'SIGNATURE_INVALID' } });
      expect(shown(bad.views)).toEqual([]);
      expect(bad.blobs).toEqual([]);
    }
  });

  test('under private names a swapped object and an unencrypted one are refused (OBJECT_MISMATCH)', async () => {
    const w = await world({ rule: 'required' });
    w.s3.put('b.png', await encrypt(patternBytes(100), 'a.png'));
    w.s3.put('plain.png', patternBytes(100));
    for (const key of ['b.png', 'plain.png']) {
      await w.core.open(config, { key, name: key });
      expect(w.last()).toMatchObject({ state: 'failed', error: { code: 'OBJECT_MISMATCH' } });
    }
    expect(shown(w.views)).toEqual([]);
  });

  test('an unencrypted object is refused where names are plain too, with Download offered', async () => {
    const w = await world();
    w.s3.put('plain.txt', utf8('anyone could have written this'));
    await w.core.open(config, { key: 'plain.txt', name: 'plain.txt' });
    expect(w.last()).toMatchObject({
      state: 'failed',
      error: { code: 'PREVIEW_UNAUTHENTICATED' },
      downloadInstead: true,
    });
  });

  test('a wrong key or no key: the key error, nothing shown', async () => {
    const other = await world({ keyring: await ourKeyring(testKeyBytes(256, 2)) });
    other.s3.put('k', await encrypt(utf8('secret')));
    await other.core.open(config, { key: 'k', name: 'a.txt' });
    expect(other.last()).toMatchObject({ state: 'failed', error: { code: 'WRONG_KEY' } });
    const none = await world({ keyring: null });
    none.s3.put('k', await encrypt(utf8('secret')));
    await none.core.open(config, { key: 'k', name: 'a.txt' });
    expect(none.last()).toMatchObject({ state: 'failed', error: { code: 'NO_KEY_FOR_OBJECT' } });
    expect([...shown(other.views), ...shown(none.views)]).toEqual([]);
  });

  test('over the cap: refused from the header, before any frame is fetched', async () => {
    const w = await world({ maxBytes: 2 * FRAME });
    const message = await encrypt(patternBytes(8 * FRAME + 1));
    w.s3.put('k', message);
    await w.core.open(config, { key: 'k', name: 'big.mp4' });
    expect(w.last()).toMatchObject({
      state: 'failed',
      error: { code: 'PREVIEW_TOO_LARGE' },
      downloadInstead: true,
    });
    // Only the header's first GET and the final frame the layout check reads.
    const finalStart = message.length - (1 + 40);
    expect(w.s3.ranges).toEqual([
      [0, FIRST_HEADER_BYTES],
      [finalStart, message.length],
    ]);
  });

  test('an unknown kind asks S3 nothing; bytes that are not UTF-8 are not shown as text', async () => {
    const w = await world();
    await w.core.open(config, { key: 'k', name: 'archive.tar.gz' });
    expect(w.last()).toMatchObject({
      state: 'failed',
      error: { code: 'PREVIEW_UNSUPPORTED' },
      downloadInstead: true,
    });
    expect(w.s3.ranges).toEqual([]);
    w.s3.put('bin', await encrypt(Uint8Array.of(0x61, 0xff, 0x62), 'bin'));
    await w.core.open(config, { key: 'bin', name: 'x.txt' });
    expect(w.last()).toMatchObject({ state: 'failed', error: { code: 'PREVIEW_NOT_TEXT' } });
  });

  test('closing while it decrypts stops it: no blob, no error, the view is idle', async () => {
    const w = await world();
    w.s3.put('k', await encrypt(patternBytes(6 * FRAME)));
    w.s3.delayMs = () => 20;
    const running = w.core.open(config, { key: 'k', name: 'photo.png' });
    await new Promise((resolve) => setTimeout(resolve, 30));
    w.core.close();
    await running;
    expect(w.last()).toEqual({ state: 'idle' });
    expect(w.views.some((view) => view.state === 'failed')).toBe(false);
    expect(w.blobs).toEqual([]);
  });
});
