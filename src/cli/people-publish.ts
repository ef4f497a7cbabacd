/**
 * `veil people publish (--public-key-file KEY.pub.pem | --private-key-file KEY.pem|BACKUP.jwe)
 * --name NAME s3://BUCKET/ROOT/`: writes the person's entry in the location's people directory,
 * the entry the app's "Publish my public key" writes (people-directory.ts: `{v, name, publicKey,
 * fingerprint, created}` at `<root>.veil/people/<fingerprint>.json`, PutObject with
 * If-None-Match, never overwritten). The key must be RSA of at least 2048 bits (checked as the
 * app checks a directory entry), its fingerprint is computed here, never taken from the file, and
 * the entry is read back through the directory's own checks (parseEntry) before publishing, so
 * nothing is written that a reader would refuse. From a private key file only its public half is
 * published. An entry already there for the same key is left as it is, and what it says is
 * printed.
 */
import { readFile } from 'node:fs/promises';
import { fromBase64 } from '../core/bytes';
import { VeilError } from '../core/errors';
import { formatFingerprint } from '../core/provider-info';
import { escapeUntrusted } from '../core/untrusted-text';
import { importPublicKey, spkiFingerprint } from '../keyrings/rsa-keys';
import {
  checkPersonName,
  entryKey,
  findPerson,
  parseEntry,
  publishEntry,
  serializeEntry,
  type PeopleStorage,
  type PersonEntry,
} from '../transfer/people-directory';
import { loadKeyPair } from './decrypt-private-key';

/** Where the public key comes from: exactly one of the two files. */
export interface PublishSource {
  readonly publicKeyFile?: string | undefined;
  readonly privateKeyFile?: string | undefined;
}

function invalidKey(detail: string, cause?: unknown): never {
  throw new VeilError('PERSON_ENTRY_INVALID', `--public-key-file: ${detail}`, { cause });
}

/**
 * The SubjectPublicKeyInfo DER of a public key PEM (`-----BEGIN PUBLIC KEY-----`, as `veil
 * people show` and `openssl rsa -pubout` write it). Pure.
 * @throws VeilError PERSON_ENTRY_INVALID for any other text, saying how to convert a PKCS#1 key.
 */
export function pemToSpki(pem: string): Uint8Array {
  if (pem.includes('BEGIN RSA PUBLIC KEY')) {
    invalidKey('a PKCS#1 key; convert it with `openssl rsa -RSAPublicKey_in -pubout`');
  }
  const match = /-----BEGIN PUBLIC KEY-----([A-Za-z0-9+/=\s]+)-----END PUBLIC KEY-----/.exec(pem);
  if (!match?.[1]) invalidKey('no "BEGIN PUBLIC KEY" PEM block');
  try {
    return fromBase64(match[1].replace(/\s+/g, ''), 'PEM body');
  } catch (cause) {
    invalidKey('the PEM body is not base64', cause);
  }
}

/**
 * The public key to publish, as SPKI DER, checked to be RSA of >= 2048 bits.
 * @throws VeilError USAGE unless exactly one file is given; IO_FAILED; PERSON_ENTRY_INVALID for a
 *   public key file that holds no such key; the private key file's errors (loadKeyPair).
 */
async function publicKeyOf(source: PublishSource): Promise<Uint8Array> {
  if ((source.publicKeyFile === undefined) === (source.privateKeyFile === undefined)) {
    throw new VeilError(
      'USAGE',
      'give the key to publish: --public-key-file KEY.pub.pem or --private-key-file KEY.pem',
    );
  }
  if (source.privateKeyFile !== undefined) {
    return (await loadKeyPair(source.privateKeyFile)).publicKeySpki;
  }
  const path = source.publicKeyFile ?? '';
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new VeilError('IO_FAILED', `cannot read public key file ${path}`, { cause });
  }
  const spki = pemToSpki(text);
  await importPublicKey(spki);
  return spki;
}

/**
 * Publishes a person's public key in the directory at `peoplePrefix` (see the header).
 * @returns the lines to print.
 * @throws VeilError USAGE for a missing or unusable --name or key source; the errors of
 *   publicKeyOf; PERSON_ENTRY_INVALID when an entry already stored under this fingerprint fails
 *   its checks; S3 errors.
 */
export async function publishPerson(
  storage: PeopleStorage,
  peoplePrefix: string,
  source: PublishSource,
  name: string | undefined,
  nowMs: number = Date.now(),
): Promise<string[]> {
  let checkedName: string;
  try {
    checkedName = checkPersonName(name ?? '');
  } catch (error) {
    const detail = error instanceof VeilError ? error.detail : undefined;
    throw new VeilError('USAGE', `--name NAME: ${detail ?? 'give the name people know you by'}`);
  }
  const publicKeySpki = await publicKeyOf(source);
  const fingerprint = await spkiFingerprint(publicKeySpki);
  const entry: PersonEntry = {
    name: checkedName,
    publicKeySpki,
    fingerprint,
    created: new Date(nowMs).toISOString(),
  };
  // What a reader will see: the entry as stored, through the directory's checks.
  await parseEntry(serializeEntry(entry), fingerprint);
  const shown = formatFingerprint(fingerprint);
  const where = entryKey(peoplePrefix, fingerprint);
  if ((await publishEntry(storage, peoplePrefix, entry)) === 'published') {
    return [`published ${shown}  ${escapeUntrusted(checkedName)}  at ${where}`];
  }
  const stored = await findPerson(storage, peoplePrefix, fingerprint);
  return [
    `already published ${shown}  ${escapeUntrusted(stored.name)}  at ${where} (left as it is)`,
  ];
}
