/**
 * The keys a header names, in words a person can act on (used in NO_MATCHING_EDK's detail and
 * wherever a file's keys are listed for people): which kind of key opens the file and its name,
 * never a provider id. The names come from the unauthenticated header, so each is quoted with
 * quoteUntrusted ([Note: untrusted text]).
 */
import type { NeededKey } from './provider-info';
import { quoteUntrusted } from './untrusted-text';

/** One key in words: `a key file or passphrase backup named "team"`, `the HSM key "x"`, … */
export function keyInWords(key: NeededKey): string {
  const name = quoteUntrusted(key.keyName);
  switch (key.providerId) {
    case 'aws-kms':
      return `the AWS KMS key ${name}`;
    case 'veil-hsm':
      return `the HSM key ${name}`;
    case 'veil-link':
      return 'a share link’s key';
    case 'veil-person':
      return 'a key pair of a person it was shared with';
    default:
      // A raw AES key: Veil's own namespace goes unsaid; another is named, as tools need it.
      return key.providerId === 'veil'
        ? `a key file or passphrase backup named ${name}`
        : `a key file or passphrase backup named ${name} (namespace ${quoteUntrusted(key.providerId)})`;
  }
}

/**
 * Every key of `keys` in words, joined with "or" (at most `most` named, then how many more).
 * Empty when there are none.
 */
export function keysInWords(keys: readonly NeededKey[], most = 4): string {
  const words = [...new Set(keys.map(keyInWords))];
  const shown = words.slice(0, most);
  const more = words.length - shown.length;
  return more > 0 ? `${shown.join(', or ')}, or ${more} more` : shown.join(', or ');
}
