/**
 * [Note: share links] A share link opens one file for anyone who holds it, without AWS
 * credentials, and can be revoked:
 * - Its key is 32 random bytes, named by a random link id (16 bytes, base64url). Sharing adds one
 *   EDK of the ESDK raw AES keyring under the namespace `veil-link` and the key name = the link
 *   id, by rewrap (the header is written again, the body copied inside S3, the content is not
 *   encrypted again). So any ESDK's raw AES keyring with that namespace, name and key opens the
 *   file, and revoking is removing that EDK by rewrap: the link stops opening even while its
 *   presigned URL is still valid.
 * - The link is `<app origin and path>#/share/<payload>`. The whole payload sits in the URL
 *   fragment, which browsers never send to any server (neither the static host nor S3): a
 *   presigned GET URL of the object, its bucket and stored key (already in that URL), the link
 *   id and key, the size, the sharer's label, the real expiry, and the clear file name only when
 *   the sharer chose to include it. With private names the presigned URL names only the
 *   encrypted key, so the name goes nowhere unless included.
 * - A presigned URL cannot outlive the credentials that signed it, nor 7 days (SigV4): the
 *   expiry shown is the earliest of what was asked, the credentials' end and 7 days
 *   (linkExpiry), never more.
 * The payload is base64url of a small JSON object (version 1), bounded in size and checked
 * field by field: a link is hostile input.
 * - The page that opens a link reads the object through its presigned URL only, which points
 *   at the deployment's configured S3 endpoint: the page's Content-Security-Policy already lets
 *   it connect there ([Note: content security policy]), and a link signed for another
 *   deployment's endpoint is refused by that policy rather than fetched.
 */
import { fromBase64, fromUtf8, toBase64Url, utf8 } from './bytes';
import { VeilError, needs } from './errors';
import { escapeUntrusted } from './untrusted-text';

/** The raw AES key namespace of link keys. */
export const LINK_PROVIDER_ID = 'veil-link';
/** Bytes of a link key (AES-256). */
export const LINK_KEY_BYTES = 32;
/** Random bytes of a link id. */
export const LINK_ID_BYTES = 16;
/** Longest life of a SigV4 presigned URL, in seconds (7 days). */
export const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;
/** The hash route of a link: `#/share/<payload>`. */
export const SHARE_ROUTE = '#/share/';
/** Longest payload read, in characters (a presigned URL with a session token is ~2 KiB). */
export const MAX_PAYLOAD_CHARS = 16_384;
/** Longest file name and label carried, in characters. */
const MAX_NAME_CHARS = 1024;
const MAX_LABEL_CHARS = 200;
const LINK_ID = /^[A-Za-z0-9_-]{22}$/;
/** Latest expiry read, in ms since the epoch: the end of the Date range (a later one is NaN). */
export const MAX_EXPIRES_AT_MS = 8.64e15;
/** The save name of a link that carries none, or whose name is nothing but unsafe characters. */
export const SHARE_DEFAULT_NAME = 'shared-file';

/** What a link carries. */
export interface SharePayload {
  /** Presigned GET URL of the object (http or https). */
  readonly url: string;
  readonly bucket: string;
  /** The stored object key (encrypted under private names), for the location binding check. */
  readonly key: string;
  readonly linkId: string;
  /** The link key (32 bytes): secret. */
  readonly linkKey: Uint8Array;
  /** The clear file name, only when the sharer included it (untrusted text, as sharedBy). */
  readonly name?: string;
  /** The file's size in bytes (plaintext when known, else the object's). */
  readonly sizeBytes: number;
  /** Who shared it, as the sharer wrote it (untrusted text: escape it to show it). */
  readonly sharedBy: string;
  /** When the presigned URL stops working, in ms since the epoch. */
  readonly expiresAtMs: number;
}

/** A fresh link id: 16 random bytes, base64url (22 characters). */
export function newLinkId(): string {
  return toBase64Url(crypto.getRandomValues(new Uint8Array(LINK_ID_BYTES)));
}

/** True for a link id as newLinkId writes it. */
export function isLinkId(text: unknown): text is string {
  return typeof text === 'string' && LINK_ID.test(text);
}

function malformed(detail: string): never {
  throw new VeilError('SHARE_LINK_MALFORMED', detail);
}

/**
 * The payload as fragment text (base64url of JSON, version 1).
 * @throws VeilError BAD_ARGUMENT / OUT_OF_RANGE for a payload decodeSharePayload would refuse.
 */
export function encodeSharePayload(payload: SharePayload): string {
  // Precondition: every field as decodeSharePayload will check it.
  needs(isLinkId(payload?.linkId), 'BAD_ARGUMENT', 'linkId');
  needs(payload.linkKey instanceof Uint8Array, 'BAD_ARGUMENT', 'linkKey');
  needs(payload.linkKey.length === LINK_KEY_BYTES, 'OUT_OF_RANGE', 'linkKey must be 32 bytes');
  const fields = {
    v: 1,
    u: payload.url,
    b: payload.bucket,
    k: payload.key,
    i: payload.linkId,
    s: toBase64Url(payload.linkKey),
    ...(payload.name === undefined ? {} : { n: payload.name }),
    z: payload.sizeBytes,
    l: payload.sharedBy,
    e: payload.expiresAtMs,
  };
  const text = toBase64Url(utf8(JSON.stringify(fields)));
  needs(text.length <= MAX_PAYLOAD_CHARS, 'OUT_OF_RANGE', 'the link would be too long');
  try {
    decodeSharePayload(text);
  } catch (error) {
    throw new VeilError('BAD_ARGUMENT', error instanceof VeilError ? error.detail : 'payload');
  }
  return text;
}

function text(value: unknown, field: string, maxChars: number): string {
  if (typeof value !== 'string' || value.length > maxChars) malformed(field);
  return value;
}

function count(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) malformed(field);
  return value;
}

/**
 * Reads fragment text back into a payload, checking each field.
 * @throws VeilError SHARE_LINK_MALFORMED naming what is wrong (never the key).
 */
export function decodeSharePayload(fragment: string): SharePayload {
  if (typeof fragment !== 'string' || fragment.length === 0) malformed('empty');
  if (fragment.length > MAX_PAYLOAD_CHARS) malformed('too long');
  if (!/^[A-Za-z0-9_-]+$/.test(fragment)) malformed('not base64url');
  let fields: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(fromUtf8(fromBase64(fragment, 'link'), 'link'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) malformed('json');
    fields = parsed as Record<string, unknown>;
  } catch (error) {
    if (error instanceof VeilError && error.code === 'SHARE_LINK_MALFORMED') throw error;
    malformed('not a link payload');
  }
  if (fields.v !== 1) malformed('unknown version');
  const url = text(fields.u, 'url', MAX_PAYLOAD_CHARS);
  let parsedUrl: URL;
  try {
    parsedUrl = new URL(url);
  } catch {
    malformed('url');
  }
  if (parsedUrl.protocol !== 'https:' && parsedUrl.protocol !== 'http:') malformed('url scheme');
  const linkId = fields.i;
  if (!isLinkId(linkId)) malformed('link id');
  const keyText = text(fields.s, 'key', 64);
  let linkKey: Uint8Array;
  try {
    linkKey = fromBase64(keyText, 'key');
  } catch {
    malformed('key');
  }
  if (linkKey.length !== LINK_KEY_BYTES) malformed('key length');
  const bucket = text(fields.b, 'bucket', 255);
  const key = text(fields.k, 'object key', 1024);
  if (bucket.length === 0 || key.length === 0) malformed('object');
  const name = fields.n === undefined ? undefined : text(fields.n, 'name', MAX_NAME_CHARS);
  return {
    url,
    bucket,
    key,
    linkId,
    linkKey,
    ...(name === undefined ? {} : { name }),
    sizeBytes: count(fields.z, 'size'),
    sharedBy: text(fields.l, 'label', MAX_LABEL_CHARS),
    expiresAtMs: expiry(fields.e),
  };
}

function expiry(value: unknown): number {
  const ms = count(value, 'expiry');
  if (ms > MAX_EXPIRES_AT_MS) malformed('expiry');
  return ms;
}

/**
 * The name a link's file is saved under: the name it carries without the characters
 * escapeUntrusted would escape ([Note: untrusted text]: controls, bidirectional and invisible
 * format characters), so a name such as `cod\u202e.exe` cannot pass for another in the save
 * dialog; SHARE_DEFAULT_NAME when nothing is left.
 */
export function shareSaveName(payload: Pick<SharePayload, 'name'>): string {
  let clean = '';
  for (const char of payload.name ?? '') {
    if (char === '\\' || escapeUntrusted(char) === char) clean += char;
  }
  clean = clean.trim();
  return clean === '' ? SHARE_DEFAULT_NAME : clean;
}

/** The whole link: the app's base URL (origin and path, no fragment) and the payload. */
export function shareLinkUrl(appBase: string, payload: SharePayload): string {
  return `${appBase.replace(/#.*$/, '')}${SHARE_ROUTE}${encodeSharePayload(payload)}`;
}

/**
 * The payload of a whole link (or of a hash `#/share/...`).
 * @throws VeilError SHARE_LINK_MALFORMED when it has no share route.
 */
export function payloadOfLink(link: string): SharePayload {
  const at = typeof link === 'string' ? link.indexOf(SHARE_ROUTE) : -1;
  if (at < 0) malformed('no #/share/ part');
  return decodeSharePayload(link.slice(at + SHARE_ROUTE.length));
}

/** What bounded a link's expiry. */
export type ExpiryLimit = 'requested' | 'credentials' | 'presign-max';

/** A link's real expiry. */
export interface LinkExpiry {
  readonly expiresAtMs: number;
  /** The presigned URL's lifetime, whole seconds (what X-Amz-Expires says). */
  readonly expiresInSeconds: number;
  readonly limitedBy: ExpiryLimit;
}

/**
 * The real expiry of a link made at `nowMs`: the earliest of the requested lifetime, the
 * signing credentials' expiration (undefined: long-term keys) and 7 days.
 * @throws VeilError OUT_OF_RANGE when less than one second is left (the credentials end now).
 */
export function linkExpiry(
  nowMs: number,
  requestedSeconds: number,
  credentialsExpireAtMs: number | undefined,
): LinkExpiry {
  // Precondition: a clock reading and a positive whole lifetime.
  needs(Number.isSafeInteger(nowMs) && nowMs >= 0, 'OUT_OF_RANGE', 'nowMs');
  needs(
    Number.isSafeInteger(requestedSeconds) && requestedSeconds >= 1,
    'OUT_OF_RANGE',
    'requestedSeconds',
  );
  let seconds = requestedSeconds;
  let limitedBy: ExpiryLimit = 'requested';
  if (seconds > MAX_PRESIGN_SECONDS) {
    seconds = MAX_PRESIGN_SECONDS;
    limitedBy = 'presign-max';
  }
  if (credentialsExpireAtMs !== undefined) {
    const left = Math.floor((credentialsExpireAtMs - nowMs) / 1000);
    if (left < seconds) {
      seconds = left;
      limitedBy = 'credentials';
    }
  }
  needs(seconds >= 1, 'OUT_OF_RANGE', 'the credentials expire now: sign in again');
  return { expiresAtMs: nowMs + seconds * 1000, expiresInSeconds: seconds, limitedBy };
}

const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400 };

/**
 * Seconds in a duration such as `90s`, `15m`, `1h`, `7d` (or a bare number of seconds).
 * @throws VeilError OUT_OF_RANGE for anything else, zero, or more than 7 days.
 */
export function parseDuration(textValue: string): number {
  const match = /^([0-9]{1,7})([smhd]?)$/.exec(typeof textValue === 'string' ? textValue : '');
  needs(match, 'OUT_OF_RANGE', 'a duration is a number and s, m, h or d (e.g. 1h, 7d)');
  const seconds = Number(match[1]) * (UNIT_SECONDS[match[2] || 's'] ?? 1);
  needs(seconds >= 1 && seconds <= MAX_PRESIGN_SECONDS, 'OUT_OF_RANGE', 'between 1s and 7d');
  return seconds;
}

/** True once a link's expiry has passed. */
export function isExpired(payload: Pick<SharePayload, 'expiresAtMs'>, nowMs: number): boolean {
  return nowMs >= payload.expiresAtMs;
}
