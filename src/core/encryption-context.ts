/**
 * The encryption context (EC): string pairs that are authenticated and stored in clear in the
 * header. Serialized sorted by the UTF-8 bytes of each key (not JS string order), FORMAT.md 2.1.
 */
import { compareBytes, concatBytes, fromUtf8, readU16, u16, utf8 } from './bytes';
import { VeilError, needs } from './errors';

/** An encryption context: key -> value, both UTF-8 strings. Never put secrets in it. */
export type EncryptionContext = Readonly<Record<string, string>>;

const RESERVED_PREFIX = 'aws-crypto-';
const U16_MAX = 0xffff;

/** Pairs of the context as UTF-8 bytes, sorted by key bytes (unsigned lexicographic). */
function sortedPairs(context: EncryptionContext): [Uint8Array, Uint8Array][] {
  const pairs: [Uint8Array, Uint8Array][] = Object.entries(context).map(([key, value]) => [
    utf8(key),
    utf8(value),
  ]);
  pairs.sort((a, b) => compareBytes(a[0], b[0]));
  return pairs;
}

/**
 * Serializes `context` as `u16 count || (u16 len || key || u16 len || value)*`, sorted by key
 * bytes; an empty context serializes to zero bytes. This is the header's EC field and the raw AES
 * keyring's wrap AAD.
 * @throws VeilError BAD_ARGUMENT for a non-string value, CONTEXT_TOO_LARGE beyond 65535 bytes.
 */
export function serializeEncryptionContext(context: EncryptionContext): Uint8Array {
  // Precondition: a plain object of strings.
  needs(typeof context === 'object' && context !== null, 'BAD_ARGUMENT', 'encryptionContext');
  const pairs = sortedPairs(context);
  if (pairs.length === 0) return new Uint8Array(0);
  const parts: Uint8Array[] = [u16(pairs.length)];
  for (const [key, value] of pairs) {
    if (key.length > U16_MAX || value.length > U16_MAX) {
      throw new VeilError('CONTEXT_TOO_LARGE', 'a key or value is longer than 65535 bytes');
    }
    parts.push(u16(key.length), key, u16(value.length), value);
  }
  const out = concatBytes(...parts);
  if (out.length > U16_MAX) throw new VeilError('CONTEXT_TOO_LARGE');
  return out;
}

/**
 * Checks a context a caller wants to encrypt with: string values only, no reserved keys.
 * @throws VeilError BAD_ARGUMENT for non-string entries, RESERVED_CONTEXT_KEY for `aws-crypto-*`.
 */
export function assertWritableContext(context: EncryptionContext): void {
  // Precondition: a plain object.
  needs(typeof context === 'object' && context !== null, 'BAD_ARGUMENT', 'encryptionContext');
  for (const [key, value] of Object.entries(context)) {
    // Precondition: every value is a string (the format has nothing else).
    needs(typeof value === 'string', 'BAD_ARGUMENT', `encryptionContext value of "${key}"`);
    if (key.startsWith(RESERVED_PREFIX)) throw new VeilError('RESERVED_CONTEXT_KEY', key);
  }
}

/**
 * Parses a serialized EC (without the u16 AAD-length prefix) that must fill `bytes` exactly.
 * @throws VeilError MALFORMED on bad lengths, bad UTF-8 or duplicate keys.
 */
export function parseEncryptionContext(bytes: Uint8Array): Record<string, string> {
  const context: Record<string, string> = Object.create(null) as Record<string, string>;
  if (bytes.length === 0) return context;
  if (bytes.length < 2) throw new VeilError('MALFORMED', 'encryption context too short');
  const pairCount = readU16(bytes, 0);
  if (pairCount === 0) throw new VeilError('MALFORMED', 'encryption context has zero pairs');
  let offsetBytes = 2;
  const take = (what: string): Uint8Array => {
    if (offsetBytes + 2 > bytes.length) throw new VeilError('MALFORMED', `${what} cut short`);
    const lengthBytes = readU16(bytes, offsetBytes);
    offsetBytes += 2;
    if (offsetBytes + lengthBytes > bytes.length) {
      throw new VeilError('MALFORMED', `${what} cut short`);
    }
    const field = bytes.subarray(offsetBytes, offsetBytes + lengthBytes);
    offsetBytes += lengthBytes;
    return field;
  };
  for (let i = 0; i < pairCount; i++) {
    const key = fromUtf8(take('encryption context key'), 'an encryption context key');
    const value = fromUtf8(take('encryption context value'), 'an encryption context value');
    if (Object.hasOwn(context, key)) {
      throw new VeilError('MALFORMED', 'duplicate encryption context key');
    }
    context[key] = value;
  }
  if (offsetBytes !== bytes.length) {
    throw new VeilError('MALFORMED', 'encryption context length does not match its pairs');
  }
  return context;
}

/**
 * Parses `k=v` strings (as given on the command line) into a context.
 * @throws VeilError BAD_ARGUMENT for an entry without `=` or a repeated key.
 */
export function contextFromPairs(pairs: readonly string[]): Record<string, string> {
  // No prototype, so keys such as `__proto__` are stored as ordinary pairs, not dropped.
  const context = Object.create(null) as Record<string, string>;
  for (const pair of pairs) {
    const equalsAt = pair.indexOf('=');
    // Precondition: every pair is key=value with a non-empty key, and keys are unique.
    needs(equalsAt > 0, 'BAD_ARGUMENT', `context entry "${pair}" is not key=value`);
    const key = pair.slice(0, equalsAt);
    needs(!Object.hasOwn(context, key), 'BAD_ARGUMENT', `context key "${key}" given twice`);
    context[key] = pair.slice(equalsAt + 1);
  }
  return context;
}
