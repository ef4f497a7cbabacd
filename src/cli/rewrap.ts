/**
 * `veil rewrap TARGET`: changes the keys of encrypted files without encrypting their content
 * again. TARGET is `s3://BUCKET/KEY` (one object), `s3://BUCKET/PREFIX/` or `s3://BUCKET` (every
 * object under it), or a local FILE. In S3 the new header is sent and the body copied inside S3
 * (rewrap-s3.ts, over the rewrap batch and engine); a local file gets its header rewritten in
 * place, atomically (rewrap-local.ts). The keys that open the files are the usual KEYS; the
 * changes are `--add-key-file`, `--add-kms-key`, `--add-hsm-key` and `--remove-key`, each
 * repeatable (rewrap-keys.ts). `--dry-run` prints the plan and changes nothing. An unfinished
 * rewrap of the object is continued ([Note: veil rewrap resume] in rewrap-resume.ts), and
 * `--delete-previous-version` deletes the version a rewrap replaced on a versioned bucket.
 */
import type { KeyringFlags } from './keyrings';
import { rewrapLocalFile } from './rewrap-local';
import { rewrapKeys, type RewrapChangeFlags } from './rewrap-keys';
import { rewrapInS3 } from './rewrap-s3';
import { isS3Url, parseS3Url } from './s3-url';

/** What `veil rewrap` is given. */
export interface RewrapCommand {
  readonly keys: KeyringFlags;
  readonly change: RewrapChangeFlags;
  readonly target: string;
  readonly dryRun: boolean;
  /** `--delete-previous-version`: on a versioned bucket, delete the version each rewrap replaced. */
  readonly deletePreviousVersion?: boolean;
  readonly print: (line: string) => void;
  readonly env?: NodeJS.ProcessEnv;
}

/** True when an S3 TARGET names a prefix (or the whole bucket) rather than one object. */
export function namesPrefix(target: string): boolean {
  const { key } = parseS3Url(target, 'prefix');
  return key === '' || key.endsWith('/');
}

/**
 * Runs `veil rewrap` (see the header).
 * @throws VeilError USAGE for missing or incomplete flags, and the errors of rewrapInS3 and
 *   rewrapLocalFile.
 */
export async function rewrap(command: RewrapCommand): Promise<void> {
  const env = command.env ?? process.env;
  const s3 = isS3Url(command.target);
  const prefix = s3 && namesPrefix(command.target);
  const location = s3 ? parseS3Url(command.target, prefix ? 'prefix' : 'object') : undefined;
  const keys = await rewrapKeys(command.keys, command.change, env);
  try {
    if (location) {
      await rewrapInS3({
        keys,
        s3: { region: command.keys.region, endpointUrl: command.keys.endpointUrl },
        location,
        prefix,
        dryRun: command.dryRun,
        deletePreviousVersion: command.deletePreviousVersion === true,
        print: command.print,
        env,
      });
      return;
    }
    await rewrapLocalFile({
      keys,
      path: command.target,
      dryRun: command.dryRun,
      print: command.print,
    });
  } finally {
    keys.close();
  }
}
