/**
 * `veil share`: share links on the command line ([Note: share links] in core/share-link.ts).
 *
 *   veil share KEYS --expires DURATION [--app-url URL] [--include-name] [--label TEXT] s3://BUCKET/KEY
 *   veil share KEYS --list [--json] s3://BUCKET/KEY                     (share-list.ts)
 *   veil share KEYS --revoke LINK_ID [--delete-older-versions] s3://BUCKET/KEY
 *   veil share KEYS --private-key-file MINE.pem --person FINGERPRINT s3://BUCKET/KEY...
 *   veil share KEYS --unshare-person FINGERPRINT [--delete-older-versions] s3://BUCKET/KEY...
 *                                                                       (share-person.ts)
 *
 * Making a link adds the link key's EDK to the object by rewrap (the body is copied inside S3)
 * and prints the link, then its real expiry: the earliest of DURATION, the end of the
 * credentials that signed its URL (none for IAM user keys) and 7 days. KEYS open the object and
 * wrap its list of links (they must be able to encrypt: a key file, --kms-key or --hsm-key).
 * KEY is the clear key: in a location with private names it is mapped to the stored key, and
 * the link names only the stored key unless --include-name is given. The app URL comes from
 * --app-url or VEIL_APP_URL (the address the app is hosted at). Making links for several
 * objects prints one link per line on stdout, in the order given, and each one's expiry on
 * stderr (share-targets.ts: one that fails does not stop the others). After a revoke (and after
 * --unshare-person), on a versioned bucket, the older versions that still hold the link's key
 * are named, or deleted with --delete-older-versions (older-versions.ts).
 */
import { parseDuration } from '../core/share-link';
import { VeilError } from '../core/errors';
import { buildUploadContext } from '../keyrings/upload-context';
import {
  createShareLink,
  fileShareLinks,
  revokeShareLink,
  type ShareContext,
} from '../aws/share-link';
import { nodeRewrapS3 } from '../transfer/node';
import { cliKeyring, readKeyFlags, writeKeyFlags, type KeyringFlags } from './keyrings';
import { namesFor, storedKeyOf } from './names';
import { s3NamesKeyStorage } from './names-storage';
import { handleOlderVersions } from './older-versions';
import { cliS3, type S3Flags } from './s3-client';
import { formatS3Url, type S3Location } from './s3-url';
import { printShares } from './share-list';
import { sharePerson } from './share-person';
import { eachTarget } from './share-targets';

/** What `veil share` is given. */
export interface ShareCommand {
  readonly keys: KeyringFlags;
  readonly s3: S3Flags;
  /** The objects: several only to make links or to share with (or unshare) a person. */
  readonly targets: readonly S3Location[];
  /** `--expires` (making a link). */
  readonly expires?: string | undefined;
  readonly appUrl?: string | undefined;
  readonly includeName: boolean;
  readonly label?: string | undefined;
  /** `--revoke LINK_ID`. */
  readonly revoke?: string | undefined;
  /** `--list`, and `--json` to list as JSON (share-list.ts). */
  readonly list: boolean;
  readonly json?: boolean;
  /** `--person FINGERPRINT`, `--unshare-person FINGERPRINT` (share-person.ts). */
  readonly person?: string | undefined;
  readonly unsharePerson?: string | undefined;
  /** `--delete-older-versions` (with --revoke or --unshare-person: older-versions.ts). */
  readonly deleteOlderVersions?: boolean;
  /** `--name` (the note's file name) and `--people-root` (share-person.ts). */
  readonly name?: string | undefined;
  readonly peopleRoot?: string | undefined;
  readonly print: (line: string) => void;
  /** Lines for stderr (a bulk share's expiries and failures); default process.stderr. */
  readonly warn?: (line: string) => void;
  readonly env?: NodeJS.ProcessEnv;
  /** Clock, ms since the epoch. */
  readonly nowMs?: () => number;
}

function usage(detail: string): never {
  throw new VeilError('USAGE', detail);
}

/** "1h 5m" for a number of seconds. */
export function formatSeconds(seconds: number): string {
  const days = Math.floor(seconds / 86_400);
  const hours = Math.floor((seconds % 86_400) / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const parts = [days ? `${days}d` : '', hours ? `${hours}h` : '', minutes ? `${minutes}m` : ''];
  const text = parts.filter(Boolean).join(' ');
  return text || `${seconds}s`;
}

const LIMIT_WORDS = {
  requested: 'as asked',
  credentials: 'cut to the end of the credentials that signed it',
  'presign-max': 'cut to 7 days, the longest a presigned URL lives',
} as const;

function appBaseOf(command: ShareCommand, env: NodeJS.ProcessEnv): string {
  const text = command.appUrl ?? env.VEIL_APP_URL?.trim();
  if (!text) usage('give the app’s address with --app-url URL (or VEIL_APP_URL)');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    usage('--app-url must be an absolute http(s) URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    usage('--app-url must be an absolute http(s) URL');
  }
  url.hash = '';
  return url.toString();
}

/** --expires in seconds; a bad duration is a usage error. */
function durationOf(text: string): number {
  try {
    return parseDuration(text);
  } catch (error) {
    usage(`--expires: ${error instanceof VeilError ? (error.detail ?? text) : text}`);
  }
}

type ShareMode = 'make' | 'list' | 'revoke' | 'person' | 'unshare-person';

function checkModes(command: ShareCommand): ShareMode {
  const modes = [
    command.expires !== undefined,
    command.list,
    command.revoke !== undefined,
    command.person !== undefined,
    command.unsharePerson !== undefined,
  ];
  if (modes.filter(Boolean).length !== 1) {
    usage(
      'give exactly one of --expires DURATION, --list, --revoke LINK_ID, --person FINGERPRINT or --unshare-person FINGERPRINT',
    );
  }
  const mode: ShareMode = command.list
    ? 'list'
    : command.revoke !== undefined
      ? 'revoke'
      : command.person !== undefined
        ? 'person'
        : command.unsharePerson !== undefined
          ? 'unshare-person'
          : 'make';
  if (mode !== 'make' && (command.includeName || command.appUrl)) {
    usage('--app-url and --include-name apply to making a link (--expires)');
  }
  if (command.label !== undefined && mode !== 'make' && mode !== 'person') {
    usage('--label applies to making a link (--expires) or to --person');
  }
  if (command.json && mode !== 'list') usage('--json applies to --list');
  if (command.deleteOlderVersions && mode !== 'revoke' && mode !== 'unshare-person') {
    usage('--delete-older-versions applies to --revoke and --unshare-person');
  }
  if ((command.name !== undefined || command.peopleRoot !== undefined) && mode !== 'person') {
    usage('--name and --people-root apply to --person');
  }
  if (command.targets.length !== 1 && (mode === 'list' || mode === 'revoke')) {
    usage('--list and --revoke take one s3://BUCKET/KEY');
  }
  if (command.targets.length === 0) usage('name the file to share: s3://BUCKET/KEY');
  return mode;
}

/**
 * What `veil share --revoke` prints of the current version: what was removed. The older
 * versions that still hold the link's key are older-versions.ts's lines.
 */
export function revokeLines(
  linkId: string,
  result: { readonly previousVersionId?: string } | undefined,
): string[] {
  if (!result) return [`revoked ${linkId}: the file no longer held its key; removed from the list`];
  return [`revoked ${linkId}: its key was removed from the file`];
}

/**
 * `veil share --revoke`: the rewrap and the list, then the older versions (see the header). With
 * --delete-older-versions a link the file and its list no longer know is not a failure: the
 * older versions are what is left to do.
 */
async function revokeOne(
  command: ShareCommand,
  context: ShareContext,
  url: string,
  warn: (line: string) => void,
): Promise<void> {
  const linkId = command.revoke ?? '';
  const deleteOlder = command.deleteOlderVersions === true;
  let previousVersionId: string | undefined;
  try {
    const result = await revokeShareLink(context, linkId);
    previousVersionId = result?.previousVersionId;
    for (const line of revokeLines(linkId, result)) command.print(line);
  } catch (error) {
    const gone = error instanceof VeilError && error.code === 'SHARE_LINK_NOT_FOUND';
    if (!gone || !deleteOlder) throw error;
    command.print(`the current version of ${url} does not hold link ${linkId}`);
  }
  await handleOlderVersions({
    client: context.client,
    bucket: context.bucket,
    key: context.key,
    url,
    holder: { kind: 'link', linkId },
    previousVersionId,
    deleteOlder,
    print: command.print,
    warn,
  });
}

/**
 * Runs `veil share` (see the header).
 * @throws VeilError USAGE; the errors of createShareLink, fileShareLinks and revokeShareLink.
 */
export async function share(command: ShareCommand): Promise<void> {
  const env = command.env ?? process.env;
  const mode = checkModes(command);
  const warn = command.warn ?? ((line: string) => process.stderr.write(`${line}\n`));
  if (mode === 'person' || mode === 'unshare-person') {
    await sharePerson({
      keys: command.keys,
      s3: command.s3,
      targets: command.targets,
      action: mode === 'person' ? 'share' : 'unshare',
      fingerprint: (mode === 'person' ? command.person : command.unsharePerson) ?? '',
      name: command.name,
      label: command.label,
      peopleRoot: command.peopleRoot,
      ...(command.deleteOlderVersions ? { deleteOlderVersions: true } : {}),
      print: command.print,
      warn,
      env,
      ...(command.nowMs ? { nowMs: command.nowMs } : {}),
    });
    return;
  }
  const seconds = mode === 'make' ? durationOf(command.expires ?? '') : 0;
  const appBase = mode === 'make' ? appBaseOf(command, env) : '';
  const nowMs = command.nowMs ?? Date.now;
  const s3 = await cliS3(command.s3, env);
  try {
    const opener = await cliKeyring('decrypt', readKeyFlags(command.keys), env);
    const wrapper = await cliKeyring('encrypt', writeKeyFlags(command.keys), env).catch(
      (error: unknown) => {
        opener.close();
        throw error;
      },
    );
    const one = async (target: S3Location): Promise<void> => {
      const names = await namesFor(
        s3NamesKeyStorage(s3.client, target.bucket, 'share'),
        target,
        'object',
        () => Promise.resolve(opener.keyring),
      );
      const context: ShareContext = {
        client: s3.client,
        rewrapS3: nodeRewrapS3(s3.client),
        bucket: target.bucket,
        root: names.root,
        key: storedKeyOf(names, target.key),
        openWith: opener.keyring,
        wrapWith: wrapper.keyring,
        context: buildUploadContext({ bucket: target.bucket }),
        bindingRule: names.bindingRule,
        nowMs,
      };
      if (mode === 'list') {
        printShares(formatS3Url(target), await fileShareLinks(context), {
          json: command.json === true,
          nowMs: nowMs(),
          print: command.print,
          warn,
        });
        return;
      }
      if (mode === 'revoke') {
        await revokeOne(command, context, formatS3Url(target), warn);
        return;
      }
      const created = await createShareLink(context, {
        requestedSeconds: seconds,
        appBase,
        ...(command.includeName ? { name: target.key.split('/').pop() ?? '' } : {}),
        label: command.label ?? '',
      });
      const expiry = `expires ${new Date(created.expiry.expiresAtMs).toISOString()} (in ${formatSeconds(
        created.expiry.expiresInSeconds,
      )}, ${LIMIT_WORDS[created.expiry.limitedBy]}); link id ${created.entry.id}`;
      command.print(created.link);
      // Several links: stdout holds only the links, one a line; each expiry goes to stderr.
      if (command.targets.length === 1) command.print(expiry);
      else warn(`${formatS3Url(target)}: ${expiry}`);
    };
    try {
      await eachTarget(command.targets, one, warn);
    } finally {
      opener.close();
      wrapper.close();
    }
  } finally {
    s3.close();
  }
}
