/**
 * `veil share KEYS --private-key-file MINE.pem --person FINGERPRINT [--name NAME] [--label ME]
 * s3://BUCKET/KEY...` and `veil share KEYS --unshare-person FINGERPRINT [--delete-older-versions]
 * s3://BUCKET/KEY...`:
 * sharing with a person on the command line, by the app's engine (shareWithPerson and
 * removePersonAccess in transfer/people-share.ts, over the rewrap engine).
 *
 * Trust ([Note: the people directory is untrusted] in transfer/people-directory.ts): the person
 * is named by the fingerprint the user compared with them out of band, which plays the app's pin
 * ([Note: pinned people]): their directory entry is read under that fingerprint and used only
 * when its fingerprint is that of its own public key and it is stored under it (findPerson:
 * PERSON_ENTRY_INVALID otherwise; a fingerprint nobody published is PERSON_UNKNOWN), and the key
 * must be RSA of at least 2048 bits. So a swapped key can never be used under a fingerprint typed
 * here; a name is never trusted for anything.
 *
 * Sharing adds the person's EDK (raw RSA, `veil-person` / their fingerprint) by rewrap, opened
 * with KEYS, which stay in the file, then writes the inbox note the app writes: the object's
 * stored key, the clear file name (NAME, default the key's last segment), who shared it (the
 * sharer's own key pair from the first --private-key-file: its fingerprint, and --label or the
 * name it is published under) and when. The people directory is the one under the location's
 * root ('' with plain names, the names key's folder with private ones), or --people-root PREFIX/
 * (the app's: its deployment prefix before `{identityId}`).
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { VeilError } from '../core/errors';
import { formatFingerprint, isFingerprint } from '../core/provider-info';
import { escapeUntrusted } from '../core/untrusted-text';
import { RawRsaKeyring } from '../keyrings/raw-rsa';
import { nodeRewrapS3 } from '../transfer/node';
import {
  checkPersonName,
  findPerson,
  peopleRoot,
  type PeopleStorage,
} from '../transfer/people-directory';
import { removePersonAccess, shareWithPerson } from '../transfer/people-share';
import { loadKeyPair } from './decrypt-private-key';
import { cliKeyring, readKeyFlags, type KeyringFlags } from './keyrings';
import { namesFor, storedKeyOf } from './names';
import { s3NamesKeyStorage } from './names-storage';
import { handleOlderVersions } from './older-versions';
import { cliPeopleStorage } from './people-storage';
import { cliS3, type S3Flags } from './s3-client';
import { formatS3Url, type S3Location } from './s3-url';
import { eachTarget } from './share-targets';

/** What `veil share --person` and `--unshare-person` are given. */
export interface PersonShareCommand {
  readonly keys: KeyringFlags;
  readonly s3: S3Flags;
  readonly targets: readonly S3Location[];
  /** `--person FINGERPRINT` (share) or `--unshare-person FINGERPRINT` (take back). */
  readonly action: 'share' | 'unshare';
  readonly fingerprint: string;
  /** `--name`: the file name the note gives (one target only). */
  readonly name?: string | undefined;
  /** `--label`: the sharer's name in the note; default the name their key is published under. */
  readonly label?: string | undefined;
  /** `--people-root PREFIX/`: the people directory's root, default the location's. */
  readonly peopleRoot?: string | undefined;
  /** `--delete-older-versions` (unshare): delete the older versions holding their key. */
  readonly deleteOlderVersions?: boolean;
  readonly print: (line: string) => void;
  readonly warn: (line: string) => void;
  readonly env?: NodeJS.ProcessEnv;
  readonly nowMs?: () => number;
}

function usage(detail: string): never {
  throw new VeilError('USAGE', detail);
}

/** A fingerprint as typed (groups of four, any case) as 64 lowercase hex digits, unchecked. */
export function typedFingerprint(text: string): string {
  return text.replace(/\s+/g, '').toLowerCase();
}

/** The people prefix: under --people-root when given, else under the location's root. */
function peoplePrefixOf(command: PersonShareCommand, locationRoot: string): string {
  const root = command.peopleRoot ?? locationRoot;
  if (root !== '' && !root.endsWith('/')) usage('--people-root takes a folder: PREFIX/');
  return peopleRoot(root.replace(/^\/+/, ''));
}

/**
 * Who shares: the sharer's key pair (the first --private-key-file) and the name the note gives.
 * @throws VeilError USAGE without a key pair, or without a name (no --label and no published
 *   entry); loadKeyPair's errors; PERSON_ENTRY_INVALID for the sharer's own entry.
 */
async function sharerOf(
  command: PersonShareCommand,
  storage: PeopleStorage,
  peoplePrefix: string,
): Promise<{ name: string; fingerprint: string }> {
  const file = command.keys.privateKeyFiles?.[0];
  if (file === undefined) {
    usage('give your own key pair with --private-key-file: the note says who shared the file');
  }
  const { fingerprint } = await loadKeyPair(file);
  if (command.label !== undefined) {
    try {
      return { name: checkPersonName(command.label), fingerprint };
    } catch (error) {
      usage(`--label: ${error instanceof VeilError ? (error.detail ?? '') : ''}`);
    }
  }
  try {
    return { name: (await findPerson(storage, peoplePrefix, fingerprint)).name, fingerprint };
  } catch (error) {
    if (!(error instanceof VeilError && error.code === 'PERSON_UNKNOWN')) throw error;
    usage(
      'your key is not in the people directory: publish it (veil people publish) or give --label',
    );
  }
}

/** The file name an inbox note gives: --name, else the clear key's last segment. */
function noteName(command: PersonShareCommand, target: S3Location): string {
  const name = command.name ?? target.key.slice(target.key.lastIndexOf('/') + 1);
  if (name.trim() === '') usage('--name NAME: the file name the person sees');
  return name;
}

/**
 * Takes the person's EDK out of the current version and prints it; then the older versions that
 * still hold it are named, or deleted with --delete-older-versions (older-versions.ts). With
 * that flag a current version that no longer holds the key is not a failure: the older ones are
 * what is left to do.
 */
async function unshareOne(
  command: PersonShareCommand,
  rewrap: Parameters<typeof removePersonAccess>[0],
  client: S3Client,
  fingerprint: string,
  url: string,
): Promise<void> {
  const deleteOlder = command.deleteOlderVersions === true;
  let previousVersionId: string | undefined;
  try {
    ({ previousVersionId } = await removePersonAccess(rewrap, fingerprint));
    command.print(`removed ${formatFingerprint(fingerprint)}’s access to ${url}`);
  } catch (error) {
    const gone = error instanceof VeilError && error.code === 'REWRAP_KEY_NOT_FOUND';
    if (!gone || !deleteOlder) throw error;
    command.print(`the current version of ${url} does not hold this person’s key`);
  }
  await handleOlderVersions({
    client,
    bucket: rewrap.bucket,
    key: rewrap.key,
    url,
    holder: { kind: 'person', fingerprint },
    previousVersionId,
    deleteOlder,
    print: command.print,
    warn: command.warn,
  });
}

/**
 * Runs `veil share --person` or `--unshare-person` on every target (see the header).
 * @throws VeilError USAGE; PERSON_UNKNOWN; PERSON_ENTRY_INVALID; the rewrap's errors
 *   (TOO_MANY_EDKS, NO_MATCHING_EDK, REWRAP_KEY_NOT_FOUND for a person who had no access,
 *   REWRAP_*); S3 errors. With several targets, the first failure once all were tried.
 */
export async function sharePerson(command: PersonShareCommand): Promise<void> {
  const env = command.env ?? process.env;
  const fingerprint = typedFingerprint(command.fingerprint);
  if (command.action === 'unshare' && !isFingerprint(fingerprint)) {
    usage('--unshare-person takes the person’s fingerprint (64 hex digits)');
  }
  if (command.name !== undefined && command.targets.length > 1) {
    usage('--name names one file: share several files without it');
  }
  if (command.action === 'unshare' && (command.name !== undefined || command.label !== undefined)) {
    usage('--name and --label apply to --person');
  }
  if (command.action === 'share' && command.deleteOlderVersions === true) {
    usage('--delete-older-versions applies to --unshare-person and --revoke');
  }
  const s3 = await cliS3(command.s3, env);
  // One sharer per people directory, read once (a backup's passphrase is asked for once).
  const sharers = new Map<string, Promise<{ name: string; fingerprint: string }>>();
  try {
    const opener = await cliKeyring('decrypt', readKeyFlags(command.keys), env);
    try {
      await eachTarget(
        command.targets,
        async (target) => {
          const bucket = target.bucket;
          const names = await namesFor(
            s3NamesKeyStorage(s3.client, bucket, 'share'),
            target,
            'object',
            () => Promise.resolve(opener.keyring),
          );
          const rewrap = {
            s3: nodeRewrapS3(s3.client),
            bucket,
            key: storedKeyOf(names, target.key),
            openWith: opener.keyring,
            bindingRule: names.bindingRule,
          };
          const url = formatS3Url(target);
          if (command.action === 'unshare') {
            await unshareOne(command, rewrap, s3.client, fingerprint, url);
            return;
          }
          const storage = cliPeopleStorage(s3.client, bucket, 'share');
          const peoplePrefix = peoplePrefixOf(command, names.root);
          const sharer = (prefix: string) => {
            const key = `${bucket}/${prefix}`;
            const known = sharers.get(key) ?? sharerOf(command, storage, prefix);
            sharers.set(key, known);
            return known;
          };
          const recipient = await findPerson(storage, peoplePrefix, fingerprint);
          const recipientKeyring = await RawRsaKeyring.forPublicKey(recipient.publicKeySpki);
          // findPerson checked it; the EDK is named by the key actually wrapped for.
          if (recipientKeyring.keyName !== fingerprint) {
            throw new VeilError('PERSON_ENTRY_INVALID', 'its key is not the fingerprint given');
          }
          await shareWithPerson({
            rewrap,
            recipient,
            recipientKeyring,
            clearName: noteName(command, target),
            from: await sharer(peoplePrefix),
            storage,
            peoplePrefix,
            nowMs: (command.nowMs ?? Date.now)(),
          });
          command.print(
            `shared ${url} with ${escapeUntrusted(recipient.name)} (${formatFingerprint(fingerprint)})`,
          );
        },
        command.warn,
      );
    } finally {
      opener.close();
    }
  } finally {
    s3.close();
  }
}
