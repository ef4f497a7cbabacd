/**
 * [Note: private names] With private names on, every segment of an object key below the
 * location's root is encrypted, so a listing shows neither file nor folder names:
 *
 *   `reports/2026/plan Q3.txt`  →  `<root>` + `Xk3…/Q0v…/b1P…`
 *
 * Each segment is encrypted on its own, deterministically, with AES-SIV (RFC 5297, AES-256-SIV,
 * the mode Cryptomator uses for names) from `@noble/ciphers`, an audited, dependency-free
 * implementation, so no mode is home-made. Deterministic means:
 * - folders stay prefixes: a listing with a delimiter still lists one folder at a time;
 * - the same name in the same folder always gives the same key, so "Replace / Keep both / Skip"
 *   and a resumed upload still find the object.
 *
 * Against the anchors:
 * - rclone crypt (EME per segment) encrypts a name the same way in every folder, so equal names
 *   in different folders are visible as equal. Here the clear path of the parent folder is the
 *   SIV's associated data: `a/x` and `b/x` get unrelated keys, and a segment moved under another
 *   parent by storage no longer opens (SIV authenticates it). Moving a folder in S3 copies every
 *   object under it anyway, so this costs no extra request.
 * - Cryptomator vault format 8 binds names to a random directory id kept in a side file per
 *   folder; here the parent path plays that part, with no side files to list or lose.
 * - Both reveal each name's length to within 16 bytes or exactly; here a segment is padded
 *   (ISO/IEC 7816-4: 0x80 then zeros) to a multiple of 16 bytes before it is encrypted.
 *
 * Encoding: base64url without padding (letters, digits, `-`, `_`: safe in any S3 key, never `.`,
 * so Veil's reserved `.veil/` keys cannot collide with a name). Decoding is strict: only the
 * canonical encoding of a whole number of blocks opens. A clear segment is Unicode NFC, so a name
 * typed on macOS (NFD) and elsewhere maps to one key.
 *
 * The SIV key is HKDF-SHA-256(names key, info "veil-names-siv-v1"), 64 bytes; the names key
 * itself (64 random bytes) lives in the bucket wrapped like a file (names-key.ts in transfer).
 */
import { aessiv } from '@noble/ciphers/aes.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { fromUtf8, toBase64Url, utf8 } from './bytes';
import { VeilError, needs } from './errors';

/** Bytes of a names key. */
export const NAMES_KEY_BYTES = 64;
/** S3's limit on an object key, in UTF-8 bytes. */
export const MAX_OBJECT_KEY_BYTES = 1024;

const SIV_KEY_INFO = utf8('veil-names-siv-v1');
const NAME_LABEL = utf8('veil-name-v1');
const BLOCK_BYTES = 16;
const TAG_BYTES = 16;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
// eslint-disable-next-line no-control-regex -- control characters are what this refuses
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Encrypts and decrypts the names of one location. */
export interface NameCipher {
  /** The stored form of a clear relative path (`a/b/c.txt`, or a folder `a/b/`). */
  encryptPath(clearPath: string): string;
  /**
   * The clear form of a stored relative path (a folder keeps its trailing slash).
   * @throws VeilError NAME_UNREADABLE when any segment does not open.
   */
  decryptPath(storedPath: string): string;
  /**
   * One stored segment opened under its clear parent (`''` at the root, else `a/b`).
   * @throws VeilError NAME_UNREADABLE.
   */
  decryptSegment(storedSegment: string, clearParent: string): string;
}

/**
 * A clear segment as it is encrypted: NFC.
 * @throws VeilError NAME_INVALID for an empty, `.`, `..`, slashed or control-character segment.
 */
export function checkedSegment(segment: string): string {
  // Precondition: a name a folder can hold.
  needs(typeof segment === 'string', 'NAME_INVALID', 'not text');
  const normal = segment.normalize('NFC');
  if (normal === '' || normal === '.' || normal === '..' || normal.includes('/')) {
    throw new VeilError('NAME_INVALID', JSON.stringify(segment));
  }
  if (CONTROL.test(normal)) throw new VeilError('NAME_INVALID', 'a control character');
  return normal;
}

function pad(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array((Math.floor(bytes.length / BLOCK_BYTES) + 1) * BLOCK_BYTES);
  out.set(bytes);
  out[bytes.length] = 0x80;
  return out;
}

function unpad(bytes: Uint8Array): Uint8Array | undefined {
  let end = bytes.length - 1;
  while (end >= 0 && bytes[end] === 0) end--;
  if (end < 0 || bytes[end] !== 0x80 || bytes.length - end > BLOCK_BYTES) return undefined;
  return bytes.subarray(0, end);
}

function decodeSegment(stored: string): Uint8Array | undefined {
  if (!BASE64URL.test(stored) || stored.length % 4 === 1) return undefined;
  const standard = stored.replace(/-/g, '+').replace(/_/g, '/');
  const binary = atob(standard.padEnd(Math.ceil(standard.length / 4) * 4, '='));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  // Canonical only: one stored form per name, whole blocks, at least one block of name.
  if (toBase64Url(bytes) !== stored) return undefined;
  if (bytes.length < TAG_BYTES + BLOCK_BYTES || bytes.length % BLOCK_BYTES !== 0) return undefined;
  return bytes;
}

function splitPath(path: string): { segments: string[]; folder: boolean } {
  const folder = path.endsWith('/');
  const body = folder ? path.slice(0, -1) : path;
  return { segments: body === '' ? [] : body.split('/'), folder };
}

/**
 * The name cipher of a location, from its names key ([Note: private names]).
 * @throws VeilError BAD_ARGUMENT unless `namesKey` is NAMES_KEY_BYTES bytes.
 */
export function createNameCipher(namesKey: Uint8Array): NameCipher {
  // Precondition: a names key of the right size.
  needs(namesKey instanceof Uint8Array, 'BAD_ARGUMENT', 'namesKey');
  needs(namesKey.length === NAMES_KEY_BYTES, 'BAD_ARGUMENT', 'namesKey must be 64 bytes');
  // The SIV borrows its key buffer: this one is private to the cipher and never changed.
  const sivKey = hkdf(sha256, namesKey, undefined, SIV_KEY_INFO, 64);
  const sivFor = (clearParent: string) => aessiv(sivKey, NAME_LABEL, utf8(clearParent));

  const encryptSegment = (segment: string, clearParent: string): string =>
    toBase64Url(sivFor(clearParent).encrypt(pad(utf8(checkedSegment(segment)))));

  const decryptSegment = (stored: string, clearParent: string): string => {
    const sealed = decodeSegment(stored);
    if (sealed === undefined) throw new VeilError('NAME_UNREADABLE', 'not an encrypted name');
    let padded: Uint8Array;
    try {
      padded = sivFor(clearParent).decrypt(sealed);
    } catch {
      throw new VeilError('NAME_UNREADABLE', 'the name does not open under this folder');
    }
    const bytes = unpad(padded);
    if (bytes === undefined) throw new VeilError('NAME_UNREADABLE', 'bad padding');
    let clear: string;
    try {
      clear = fromUtf8(bytes, 'a name');
    } catch {
      throw new VeilError('NAME_UNREADABLE', 'not UTF-8');
    }
    // What opens was written by a holder of the names key; still, only valid names are shown.
    if (checkedSegment(clear) !== clear) throw new VeilError('NAME_UNREADABLE', 'not NFC');
    return clear;
  };

  return {
    encryptPath(clearPath) {
      const { segments, folder } = splitPath(clearPath);
      needs(segments.length > 0, 'NAME_INVALID', 'an empty path');
      const stored: string[] = [];
      const clear: string[] = [];
      for (const segment of segments) {
        stored.push(encryptSegment(segment, clear.join('/')));
        clear.push(checkedSegment(segment));
      }
      return stored.join('/') + (folder ? '/' : '');
    },
    decryptPath(storedPath) {
      const { segments, folder } = splitPath(storedPath);
      if (segments.length === 0) throw new VeilError('NAME_UNREADABLE', 'an empty path');
      const clear: string[] = [];
      for (const segment of segments) clear.push(decryptSegment(segment, clear.join('/')));
      return clear.join('/') + (folder ? '/' : '');
    },
    decryptSegment,
  };
}

/**
 * The full object key of a clear relative path under `root` (a prefix, '' or ending in '/'),
 * checked against S3's limit before anything is sent.
 * @throws VeilError NAME_TOO_LONG beyond MAX_OBJECT_KEY_BYTES; NAME_INVALID from the cipher.
 */
export function privateObjectKey(root: string, cipher: NameCipher, clearPath: string): string {
  const key = root + cipher.encryptPath(clearPath);
  const keyBytes = utf8(key).length;
  if (keyBytes > MAX_OBJECT_KEY_BYTES) {
    throw new VeilError(
      'NAME_TOO_LONG',
      `${keyBytes} bytes encrypted, ${MAX_OBJECT_KEY_BYTES} allowed; ${utf8(clearPath).length} bytes of name`,
    );
  }
  return key;
}
