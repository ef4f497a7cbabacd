/**
 * The share link's fragment codec and expiry arithmetic ([Note: share links]): a round trip
 * keeps every field, hostile fragments (not base64url, not JSON, wrong types, wrong key size,
 * oversized fields, an unknown version, a non-http URL) are refused with SHARE_LINK_MALFORMED
 * and never with another error (an expiry past the Date range included), the save name without
 * controls, bidirectional or invisible characters, and the real expiry is the earliest of what was asked, the
 * credentials' end and 7 days.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { fromBase64, fromUtf8, toBase64Url, utf8 } from '../../../src/core/bytes';
import { VeilError } from '../../../src/core/errors';
import {
  MAX_EXPIRES_AT_MS,
  MAX_PAYLOAD_CHARS,
  MAX_PRESIGN_SECONDS,
  SHARE_DEFAULT_NAME,
  decodeSharePayload,
  encodeSharePayload,
  isExpired,
  linkExpiry,
  newLinkId,
  parseDuration,
  payloadOfLink,
  shareLinkUrl,
  shareSaveName,
  type SharePayload,
} from '../../../src/core/share-link';

const payload = (extra: Partial<SharePayload> = {}): SharePayload => ({
  url: 'https://bucket.s3.eu-west-1.amazonaws.com/k?X-Amz-Expires=3600&X-Amz-Signature=ab',
  bucket: 'bucket',
  key: 'docs/a.txt',
  linkId: newLinkId(),
  linkKey: new Uint8Array(32).fill(7),
  sizeBytes: 1234,
  sharedBy: 'Ada',
  expiresAtMs: 1_800_000_000_000,
  ...extra,
});

const fieldsText = (fields: Record<string, unknown>): string =>
  toBase64Url(utf8(JSON.stringify(fields)));

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return error instanceof VeilError ? error.code : `not a VeilError: ${String(error)}`;
  }
}

describe('fragment codec', () => {
  test('round trip keeps every field, with and without a name', () => {
    for (const given of [payload(), payload({ name: 'Rapport été 2026.pdf' })]) {
      const link = shareLinkUrl('https://veil.example/app/', given);
      expect(link.startsWith('https://veil.example/app/#/share/')).toBe(true);
      const back = payloadOfLink(link);
      expect(back).toEqual(given);
    }
  });

  test('a link without a name holds no name field at all', () => {
    const text = encodeSharePayload(payload());
    expect(decodeSharePayload(text)).not.toHaveProperty('name');
  });

  test('the base URL loses any fragment it had', () => {
    const link = shareLinkUrl('https://veil.example/#/files/x', payload());
    expect(link.indexOf('#')).toBe(link.lastIndexOf('#'));
  });

  const good = JSON.parse(
    fromUtf8(fromBase64(encodeSharePayload(payload()), 'test'), 'test'),
  ) as Record<string, unknown>;

  test.each([
    ['empty', ''],
    ['not base64url', 'abc+def/=='],
    ['not JSON', toBase64Url(utf8('hello'))],
    ['an array', fieldsText([] as unknown as Record<string, unknown>)],
    ['an unknown version', fieldsText({ ...good, v: 2 })],
    ['a short key', fieldsText({ ...good, s: toBase64Url(new Uint8Array(31)) })],
    ['a long key', fieldsText({ ...good, s: toBase64Url(new Uint8Array(33)) })],
    ['a key that is not base64', fieldsText({ ...good, s: '!!!' })],
    ['a bad link id', fieldsText({ ...good, i: 'short' })],
    ['a javascript: URL', fieldsText({ ...good, u: 'javascript:alert(1)' })],
    ['a URL that does not parse', fieldsText({ ...good, u: 'not a url' })],
    ['a negative size', fieldsText({ ...good, z: -1 })],
    ['a fractional size', fieldsText({ ...good, z: 1.5 })],
    ['a huge size', fieldsText({ ...good, z: 2 ** 60 })],
    ['a size as text', fieldsText({ ...good, z: '12' })],
    ['a long name', fieldsText({ ...good, n: 'x'.repeat(1025) })],
    ['a long label', fieldsText({ ...good, l: 'x'.repeat(201) })],
    ['no bucket', fieldsText({ ...good, b: '' })],
    ['no expiry', fieldsText({ ...good, e: undefined })],
    ['an expiry past the Date range', fieldsText({ ...good, e: MAX_EXPIRES_AT_MS + 1 })],
    ['an expiry of 2^53 - 1', fieldsText({ ...good, e: Number.MAX_SAFE_INTEGER })],
    ['an oversized fragment', 'A'.repeat(MAX_PAYLOAD_CHARS + 1)],
  ])('refuses %s with SHARE_LINK_MALFORMED', (_what, text) => {
    expect(codeOf(() => decodeSharePayload(text))).toBe('SHARE_LINK_MALFORMED');
  });

  test('the latest expiry read is a date the page can show', () => {
    const back = decodeSharePayload(fieldsText({ ...good, e: MAX_EXPIRES_AT_MS }));
    expect(back.expiresAtMs).toBe(MAX_EXPIRES_AT_MS);
    expect(() => new Date(back.expiresAtMs).toISOString()).not.toThrow();
  });

  test('a link without the share route is malformed', () => {
    expect(codeOf(() => payloadOfLink('https://veil.example/#/files/'))).toBe(
      'SHARE_LINK_MALFORMED',
    );
  });

  test('any fragment text is read or refused with SHARE_LINK_MALFORMED, never another error', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        const code = codeOf(() => decodeSharePayload(text));
        expect(code === undefined || code === 'SHARE_LINK_MALFORMED').toBe(true);
      }),
    );
  });

  test('the error never carries the key', () => {
    const text = fieldsText({ ...good, v: 9 });
    try {
      decodeSharePayload(text);
    } catch (error) {
      expect(String(error)).not.toContain(String(good.s));
    }
  });
});

describe('real expiry', () => {
  const now = 1_700_000_000_000;

  test('long-term keys: what was asked, up to 7 days', () => {
    expect(linkExpiry(now, 3600, undefined)).toEqual({
      expiresAtMs: now + 3600_000,
      expiresInSeconds: 3600,
      limitedBy: 'requested',
    });
    expect(linkExpiry(now, 30 * 86_400, undefined)).toMatchObject({
      expiresInSeconds: MAX_PRESIGN_SECONDS,
      limitedBy: 'presign-max',
    });
  });

  test('credentials that end sooner cut the link to their end, in whole seconds', () => {
    expect(linkExpiry(now, 7 * 86_400, now + 3_599_500)).toEqual({
      expiresAtMs: now + 3_599_000,
      expiresInSeconds: 3599,
      limitedBy: 'credentials',
    });
    expect(linkExpiry(now, 60, now + 3600_000).limitedBy).toBe('requested');
  });

  test('credentials ending now leave no link', () => {
    expect(codeOf(() => linkExpiry(now, 3600, now + 500))).toBe('OUT_OF_RANGE');
    expect(codeOf(() => linkExpiry(now, 0, undefined))).toBe('OUT_OF_RANGE');
  });

  test('never more than asked, the credentials or 7 days (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 * 86_400 }),
        fc.option(fc.integer({ min: 1000, max: 30 * 86_400_000 }), { nil: undefined }),
        (asked, credentialsLeftMs) => {
          const expiry = linkExpiry(
            now,
            asked,
            credentialsLeftMs === undefined ? undefined : now + credentialsLeftMs,
          );
          expect(expiry.expiresInSeconds).toBeLessThanOrEqual(asked);
          expect(expiry.expiresInSeconds).toBeLessThanOrEqual(MAX_PRESIGN_SECONDS);
          if (credentialsLeftMs !== undefined) {
            expect(expiry.expiresAtMs).toBeLessThanOrEqual(now + credentialsLeftMs);
          }
          expect(expiry.expiresAtMs).toBe(now + expiry.expiresInSeconds * 1000);
        },
      ),
    );
  });

  test('isExpired at and after the expiry', () => {
    expect(isExpired({ expiresAtMs: now }, now - 1)).toBe(false);
    expect(isExpired({ expiresAtMs: now }, now)).toBe(true);
  });

  test.each([
    ['90s', 90],
    ['15m', 900],
    ['1h', 3600],
    ['7d', 604_800],
    ['120', 120],
  ])('parseDuration(%s) = %i', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  test.each(['', '0s', '8d', '1w', '-1h', '1.5h', 'h'])('parseDuration(%j) refuses', (text) => {
    expect(codeOf(() => parseDuration(text))).toBe('OUT_OF_RANGE');
  });
});

describe('save name', () => {
  test('a plain name is kept as it is', () => {
    expect(shareSaveName({ name: 'Rapport été 2026.pdf' })).toBe('Rapport été 2026.pdf');
    expect(shareSaveName({ name: 'a\\b.txt' })).toBe('a\\b.txt');
  });

  test('controls, bidirectional and invisible characters are dropped', () => {
    expect(shareSaveName({ name: 'invoice\u202Etxt.exe' })).toBe('invoicetxt.exe');
    expect(shareSaveName({ name: 'a\u0000b\u001b[31mc\u200Bd\u2066e\uFEFF.pdf' })).toBe(
      'ab[31mcde.pdf',
    );
  });

  test('no name, or nothing but unsafe characters: the default name', () => {
    expect(shareSaveName({})).toBe(SHARE_DEFAULT_NAME);
    expect(shareSaveName({ name: '\u202E\u0007 ' })).toBe(SHARE_DEFAULT_NAME);
  });
});
