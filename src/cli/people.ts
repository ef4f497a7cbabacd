/**
 * `veil people ls s3://BUCKET/ROOT/`, `veil people show FINGERPRINT s3://BUCKET/ROOT/` and `veil
 * people publish ... s3://BUCKET/ROOT/` (people-publish.ts): the people directory of a location ([Note: the people directory is untrusted] in
 * src/transfer/people-directory.ts), read with the same checks as the app. `ls` prints one line per
 * person (fingerprint in groups, name) and one per refused entry; `show` prints one person as JSON
 * (name, fingerprint, the public key as PEM), or fails PERSON_UNKNOWN when the directory has no
 * one with that fingerprint. Nothing is pinned here: compare the fingerprint with the person.
 */
import { toBase64 } from '../core/bytes';
import { VeilError } from '../core/errors';
import { formatFingerprint } from '../core/provider-info';
import { escapeUntrusted } from '../core/untrusted-text';
import { findPerson, listPeople, peopleRoot } from '../transfer/people-directory';
import { publishPerson } from './people-publish';
import { cliPeopleStorage } from './people-storage';
import { cliS3, type S3Flags } from './s3-client';
import type { S3Location } from './s3-url';

/** What `veil people` is given. */
export interface PeopleOptions {
  readonly action: string;
  /** For `show`: the fingerprint (64 hex digits, spaces allowed). */
  readonly fingerprint?: string;
  /** For `publish`: the key (one of the two files) and the name to publish. */
  readonly publicKeyFile?: string | undefined;
  readonly privateKeyFile?: string | undefined;
  readonly name?: string | undefined;
  readonly location: S3Location;
  readonly s3: S3Flags;
  readonly print: (line: string) => void;
}

/** The public key as PEM (SubjectPublicKeyInfo). */
function publicKeyPem(spki: Uint8Array): string {
  const lines = toBase64(spki).match(/.{1,64}/g) ?? [];
  return `-----BEGIN PUBLIC KEY-----\n${lines.join('\n')}\n-----END PUBLIC KEY-----\n`;
}

/**
 * Runs `veil people ls|show`.
 * @throws VeilError USAGE for another action or a location that is not a folder; PERSON_UNKNOWN;
 *   PERSON_ENTRY_INVALID (show, for an entry that fails its checks); publishPerson's; S3 errors.
 */
export async function people(options: PeopleOptions): Promise<void> {
  const root = options.location.key;
  if (root !== '' && !root.endsWith('/')) {
    throw new VeilError('USAGE', 'name the location as s3://BUCKET/ROOT/ (ending in /)');
  }
  const publishing =
    options.publicKeyFile !== undefined ||
    options.privateKeyFile !== undefined ||
    options.name !== undefined;
  if (publishing && options.action !== 'publish') {
    throw new VeilError(
      'USAGE',
      '--public-key-file, --private-key-file and --name apply to veil people publish',
    );
  }
  const { client, close } = await cliS3(options.s3);
  try {
    const bucket = options.location.bucket;
    const storage = cliPeopleStorage(client, bucket, 'people');
    const prefix = peopleRoot(root);
    if (options.action === 'publish') {
      const source = {
        publicKeyFile: options.publicKeyFile,
        privateKeyFile: options.privateKeyFile,
      };
      const lines = await publishPerson(storage, prefix, source, options.name);
      for (const line of lines) options.print(line);
      return;
    }
    if (options.action === 'ls') {
      const listing = await listPeople(storage, prefix);
      for (const person of listing.people) {
        options.print(`${formatFingerprint(person.fingerprint)}  ${escapeUntrusted(person.name)}`);
      }
      for (const refused of listing.refused) {
        options.print(`refused  ${refused.claimed}  ${refused.error.code}`);
      }
      return;
    }
    if (options.action !== 'show') {
      throw new VeilError(
        'USAGE',
        `unknown people action "${options.action}": ls, show or publish`,
      );
    }
    const fingerprint = (options.fingerprint ?? '').replace(/\s+/g, '').toLowerCase();
    const person = await findPerson(storage, prefix, fingerprint);
    options.print(
      JSON.stringify(
        {
          name: escapeUntrusted(person.name),
          fingerprint: formatFingerprint(person.fingerprint),
          created: person.created,
          publicKey: publicKeyPem(person.publicKeySpki),
        },
        null,
        2,
      ),
    );
  } finally {
    close();
  }
}
