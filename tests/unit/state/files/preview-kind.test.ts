/**
 * What a preview shows and reads ([Note: preview type from the name]): the kind from the clear
 * name's extension only, text only when it is UTF-8 (a character cut by the read limit is left
 * out, an invalid one refuses the whole), the caps, and the range plan for text.
 */
import { describe, expect, test } from 'vitest';
import {
  PREVIEW_MAX_BYTES,
  PREVIEW_TEXT_BYTES,
  planPreview,
  previewTypeOf,
  utf8Text,
  type PlanInput,
} from '../../../../src/state/files/preview-kind';
import { expectThrowsCode } from '../../core/helpers';

const MiB = 1024 * 1024;
const FRAME = 512 * 1024;

describe('previewTypeOf', () => {
  test.each([
    ['photo.png', 'image', 'image/png'],
    ['Photo.JPG', 'image', 'image/jpeg'],
    ['diagram.svg', 'image', 'image/svg+xml'],
    ['report.pdf', 'pdf', 'application/pdf'],
    ['song.mp3', 'audio', 'audio/mpeg'],
    ['clip.webm', 'video', 'video/webm'],
    ['notes.txt', 'text', 'text/plain;charset=utf-8'],
    ['page.html', 'text', 'text/plain;charset=utf-8'],
    ['a/b/data.tar.json', 'text', 'text/plain;charset=utf-8'],
  ])('%s is %s (%s)', (name, kind, mimeType) => {
    expect(previewTypeOf(name)).toEqual({ kind, mimeType });
  });

  test.each([
    'archive.tar.gz',
    'README',
    '.bashrc',
    'trailing.',
    'program.exe',
    'a.constructor',
    'a.__proto__',
    'a.toString',
    'folder.png/inner',
  ])('%s has no preview', (name) => {
    expect(previewTypeOf(name)).toBeUndefined();
  });

  test('HTML is shown as text, never as a page: its Blob type is text/plain', () => {
    expect(previewTypeOf('x.htm')?.mimeType).toBe('text/plain;charset=utf-8');
    expect(previewTypeOf('x.xml')?.kind).toBe('text');
  });
});

describe('utf8Text', () => {
  const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);
  const encode = (text: string): Uint8Array => new TextEncoder().encode(text);

  test('decodes valid UTF-8, whole or cut', () => {
    expect(utf8Text(encode('héllo 😀'), false)).toBe('héllo 😀');
    expect(utf8Text(encode('plain'), true)).toBe('plain');
    expect(utf8Text(new Uint8Array(0), false)).toBe('');
  });

  test('refuses invalid bytes anywhere, even in a cut read', () => {
    expect(utf8Text(bytes(0x61, 0xff, 0x62), false)).toBeUndefined();
    expect(utf8Text(bytes(0x61, 0xff, 0x62), true)).toBeUndefined();
    // An overlong NUL and an encoded surrogate are not UTF-8.
    expect(utf8Text(bytes(0xc0, 0x80), false)).toBeUndefined();
    expect(utf8Text(bytes(0xed, 0xa0, 0x80), false)).toBeUndefined();
    // A lone continuation byte at the end is not a cut character.
    expect(utf8Text(bytes(0x61, 0x80), true)).toBeUndefined();
  });

  test('a character split by the read limit is left out of a cut read, refused in a whole one', () => {
    const emoji = encode('a😀'); // 61 f0 9f 98 80
    for (const keep of [2, 3, 4]) {
      expect(utf8Text(emoji.subarray(0, keep), true)).toBe('a');
      expect(utf8Text(emoji.subarray(0, keep), false)).toBeUndefined();
    }
    expect(utf8Text(emoji, true)).toBe('a😀');
    expect(utf8Text(encode('é').subarray(0, 1), true)).toBe('');
  });
});

describe('planPreview', () => {
  const text = { kind: 'text', mimeType: 'text/plain;charset=utf-8' } as const;
  const image = { kind: 'image', mimeType: 'image/png' } as const;
  const framed = (plaintextBytes: number, type: PlanInput['type'] = text): PlanInput => ({
    type,
    objectKind: 'esdk-framed',
    objectBytes: plaintextBytes + 300,
    plaintextBytes,
    frames: { frameBytes: FRAME, form: 'empty-final' },
    padded: false,
  });

  test('the caps: 1 MiB of text, 64 MiB decrypted whole', () => {
    expect(PREVIEW_TEXT_BYTES).toBe(MiB);
    expect(PREVIEW_MAX_BYTES).toBe(64 * MiB);
  });

  test('text of a framed object reads only the frames holding the first MiB', () => {
    // 40 MiB: frames 1 and 2 (2 x 512 KiB, 32 bytes of seq, IV and tag each), of 81.
    expect(planPreview(framed(40 * MiB))).toEqual({
      mode: 'range',
      endBytes: MiB,
      plaintextBytes: 40 * MiB,
      fetchBytes: 2 * (FRAME + 32),
    });
    // 1 MiB + 1 byte: still two frames, the third (1 byte) is not read.
    expect(planPreview(framed(MiB + 1))).toMatchObject({
      endBytes: MiB,
      fetchBytes: 2 * (FRAME + 32),
    });
    // A small file: its one final frame (40 bytes of marker, seq, IV, length and tag).
    expect(planPreview(framed(100))).toEqual({
      mode: 'range',
      endBytes: 100,
      plaintextBytes: 100,
      fetchBytes: 140,
    });
    // Larger than the whole-file cap is fine for text: only the first frames are read.
    expect(planPreview(framed(10 * PREVIEW_MAX_BYTES)).mode).toBe('range');
  });

  test('the text cap can be set, and an empty text reads nothing but its final frame', () => {
    expect(planPreview(framed(5000), 1500)).toMatchObject({ mode: 'range', endBytes: 1500 });
    expect(planPreview(framed(0))).toMatchObject({ mode: 'range', endBytes: 0 });
  });

  test('images and other kinds are read whole, up to the cap and no further', () => {
    expect(planPreview(framed(PREVIEW_MAX_BYTES, image))).toEqual({
      mode: 'whole',
      boundBytes: PREVIEW_MAX_BYTES,
    });
    expectThrowsCode(() => planPreview(framed(PREVIEW_MAX_BYTES + 1, image)), 'PREVIEW_TOO_LARGE');
    expectThrowsCode(() => planPreview(framed(2000, image), MiB, 1999), 'PREVIEW_TOO_LARGE');
  });

  test('signed, non-framed and padded messages are read whole (authenticated only at the end)', () => {
    const signed: PlanInput = {
      type: text,
      objectKind: 'esdk-stream',
      objectBytes: 5000,
      plaintextBytes: undefined,
      padded: false,
    };
    expect(planPreview(signed)).toEqual({ mode: 'whole', boundBytes: 5000 });
    expectThrowsCode(
      () => planPreview({ ...signed, objectBytes: PREVIEW_MAX_BYTES + 1 }),
      'PREVIEW_TOO_LARGE',
    );
    expect(planPreview({ ...framed(4000), padded: true })).toEqual({
      mode: 'whole',
      boundBytes: 4000,
    });
  });

  test('an unencrypted object is never previewed: nothing authenticates it', () => {
    expectThrowsCode(
      () => planPreview({ ...framed(10), objectKind: 'plain' }),
      'PREVIEW_UNAUTHENTICATED',
    );
  });
});
