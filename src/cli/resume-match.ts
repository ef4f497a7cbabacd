/**
 * [Note: veil cp resume] `veil cp FILE s3://BUCKET/KEY` continues an unfinished upload only when
 * the command is the same one that started it: the same destination, the same file (name, size,
 * modification time, hash of its first 8 MiB, as the engine checks again), the same encryption
 * context, and the same keys, as far as the stored header shows them without opening it: one
 * encrypted data key per key given, every key file's name, every `--hsm-key` label and every
 * `--kms-key` given as a key ARN among them. Adding, dropping or changing a key therefore starts
 * a new upload rather than silently producing an object without the new key. An unfinished upload
 * to the same destination that does not match is aborted in S3 and forgotten, as the new upload
 * replaces the object anyway. The engine then unwraps the data key with the keys given, and
 * checks every part already sent against its digest before sending more ([Note: resume digests]
 * in src/transfer/part-digest.ts). A stored upload that S3 no longer holds (aborted, or expired
 * by a lifecycle rule: RESUME_UPLOAD_GONE) is forgotten and the file uploaded afresh.
 */
import type { EncryptionContext } from '../core/encryption-context';
import { parseHeaderBytes } from '../core/message';
import { keysNeeded } from '../core/provider-info';
import { HSM_PROVIDER_ID } from '../keyrings/hsm-proxy';
import { KMS_PROVIDER_ID } from '../keyrings/kms';
import type { FileIdentity, UploadRecord } from '../transfer/upload-store';
import { sameFile } from '../transfer/upload-store';

/** The keys a `veil cp` upload names, by kind. */
export interface CommandKeys {
  /** The key name of each `--key-file` (undefined for a backup that names none). */
  readonly keyFileNames: readonly (string | undefined)[];
  /** Each `--hsm-key` label. */
  readonly hsmLabels: readonly string[];
  /** Each `--kms-key` as given (alias, key id or ARN). */
  readonly kmsKeys: readonly string[];
}

/** What a record must match. */
export interface UploadCommand {
  readonly bucket: string;
  readonly key: string;
  readonly file: FileIdentity;
  readonly encryptionContext: EncryptionContext;
  readonly keys: CommandKeys;
}

/** Removes one occurrence of `name` from `names`; false when there was none. */
function takeName(names: string[], name: string): boolean {
  const at = names.indexOf(name);
  if (at < 0) return false;
  names.splice(at, 1);
  return true;
}

function sameContext(a: EncryptionContext, b: EncryptionContext): boolean {
  const entries = (context: EncryptionContext) =>
    JSON.stringify(Object.entries(context).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));
  return entries(a) === entries(b);
}

/** True when a `--kms-key` value names the key by its ARN (as the header stores it). */
function isKeyArn(text: string): boolean {
  return /^arn:aws[a-z-]*:kms:[^:]+:[0-9]+:key\/.+$/.test(text);
}

/**
 * True when the header stored in `record` carries exactly the keys `keys` names, as far as the
 * header shows it (see [Note: veil cp resume]). Pure.
 */
export function sameKeys(record: UploadRecord, keys: CommandKeys): boolean {
  let needed;
  try {
    needed = keysNeeded(parseHeaderBytes(record.headerBytes));
  } catch {
    return false;
  }
  const byProvider = (match: (providerId: string) => boolean): string[] =>
    needed.filter((edk) => match(edk.providerId)).map((edk) => edk.keyName);
  const kms = byProvider((id) => id === KMS_PROVIDER_ID);
  const hsm = byProvider((id) => id === HSM_PROVIDER_ID);
  const files = byProvider((id) => id !== KMS_PROVIDER_ID && id !== HSM_PROVIDER_ID);
  if (kms.length !== keys.kmsKeys.length) return false;
  if (hsm.length !== keys.hsmLabels.length) return false;
  if (files.length !== keys.keyFileNames.length) return false;
  return (
    keys.kmsKeys.every((name) => !isKeyArn(name) || takeName(kms, name)) &&
    keys.hsmLabels.every((label) => takeName(hsm, label)) &&
    keys.keyFileNames.every((name) => name === undefined || takeName(files, name))
  );
}

/** True when `record` is an unfinished upload of this very command ([Note: veil cp resume]). */
export function recordMatches(record: UploadRecord, command: UploadCommand): boolean {
  if (record.bucket !== command.bucket || record.key !== command.key) return false;
  if (record.protection !== 'client-side') return false;
  if (!sameFile(record.file, command.file)) return false;
  let context: EncryptionContext;
  try {
    context = parseHeaderBytes(record.headerBytes).encryptionContext;
  } catch {
    return false;
  }
  return sameContext(context, command.encryptionContext) && sameKeys(record, command.keys);
}
