/**
 * `veil share`: share links on the command line ([Note: share links] in core/share-link.ts).
 *
 *   veil share KEYS --expires DURATION [--app-url URL] [--include-name] [--label TEXT] s3://BUCKET/KEY
 *   veil share KEYS --list s3://BUCKET/KEY
 *   veil share KEYS --revoke LINK_ID s3://BUCKET/KEY
 *
 * Making a link adds the link key's EDK to the object by rewrap (the body is copied inside S3)
 * and prints the link, then its real expiry: the earliest of DURATION, the end of the
 * credentials that signed its URL (none for IAM user keys) and 7 days. KEYS open the object and
 * wrap its list of links (they must be able to encrypt: a key file, --kms-key or --hsm-key).
 * KEY is the clear key: in a location with private names it is mapped to the stored key, and
 * the link names only the stored key unless --include-name is given. The app URL comes from
 * --app-url or VEIL_APP_URL (the address the app is hosted at).
 */
import { isExpired, parseDuration } from '../core/share-link';
import { VeilError } from '../core/errors';
import { escapeUntrusted } from '../core/untrusted-text';
import { buildUploadContext } from '../keyrings/upload-context';
import {
  createShareLink,
  listShareLinks,
  revokeShareLink,
  type ShareContext,
} from '../aws/share-link';
import { nodeRewrapS3 } from '../transfer/node';
import type { LinkEntry } from '../transfer/share-list';
import { cliKeyring, readKeyFlags, writeKeyFlags, type KeyringFlags } from './keyrings';
import { namesFor, storedKeyOf } from './names';
import { s3NamesKeyStorage } from './names-storage';
import { cliS3, type S3Flags } from './s3-client';
import type { S3Location } from './s3-url';

/** What `veil share` is given. */
export interface ShareCommand {
  readonly keys: KeyringFlags;
  readonly s3: S3Flags;
  readonly target: S3Location;
  /** `--expires` (making a link). */
  readonly expires?: string | undefined;
  readonly appUrl?: string | undefined;
  readonly includeName: boolean;
  readonly label?: string | undefined;
  /** `--revoke LINK_ID`. */
  readonly revoke?: string | undefined;
  /** `--list`. */
  readonly list: boolean;
  readonly print: (line: string) => void;
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

/** One line of `--list`. */
export function linkLine(entry: LinkEntry, nowMs: number): string {
  const expiry = new Date(entry.expiresAtMs).toISOString();
  return [
    entry.id,
    `created ${new Date(entry.createdAtMs).toISOString()}`,
    isExpired(entry, nowMs) ? `expired ${expiry}` : `expires ${expiry}`,
    entry.nameIncluded ? 'name included' : 'name not included',
    `label "${escapeUntrusted(entry.label)}"`,
  ].join('  ');
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

function checkModes(command: ShareCommand): 'make' | 'list' | 'revoke' {
  const modes = [command.expires !== undefined, command.list, command.revoke !== undefined];
  if (modes.filter(Boolean).length !== 1) {
    usage('give exactly one of --expires DURATION, --list or --revoke LINK_ID');
  }
  if (command.expires === undefined && (command.includeName || command.appUrl || command.label)) {
    usage('--app-url, --include-name and --label apply to making a link (--expires)');
  }
  return command.list ? 'list' : command.revoke !== undefined ? 'revoke' : 'make';
}

/**
 * What `veil share --revoke` prints: what was removed and, on a versioned bucket, that the
 * replaced version still holds the link's key.
 */
export function revokeLines(
  linkId: string,
  result: { readonly previousVersionId?: string } | undefined,
): string[] {
  if (!result) return [`revoked ${linkId}: the file no longer held its key; removed from the list`];
  const lines = [`revoked ${linkId}: its key was removed from the file`];
  if (result.previousVersionId) {
    lines.push(
      `the bucket keeps versions: the previous version (${result.previousVersionId}) still holds ` +
        `this link's key; delete it in the app's Versions… or with aws s3api delete-object ` +
        `--version-id ${result.previousVersionId}`,
    );
  }
  return lines;
}

/**
 * Runs `veil share` (see the header).
 * @throws VeilError USAGE; the errors of createShareLink, listShareLinks and revokeShareLink.
 */
export async function share(command: ShareCommand): Promise<void> {
  const env = command.env ?? process.env;
  const mode = checkModes(command);
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
    try {
      const names = await namesFor(
        s3NamesKeyStorage(s3.client, command.target.bucket, 'share'),
        command.target,
        'object',
        () => Promise.resolve(opener.keyring),
      );
      const key = storedKeyOf(names, command.target.key);
      const context: ShareContext = {
        client: s3.client,
        rewrapS3: nodeRewrapS3(s3.client),
        bucket: command.target.bucket,
        root: names.root,
        key,
        openWith: opener.keyring,
        wrapWith: wrapper.keyring,
        context: buildUploadContext({ bucket: command.target.bucket }),
        bindingRule: names.bindingRule,
        nowMs,
      };
      if (mode === 'list') {
        const entries = await listShareLinks(context);
        if (entries.length === 0) command.print('no share links');
        for (const entry of entries) command.print(linkLine(entry, nowMs()));
        return;
      }
      if (mode === 'revoke') {
        const linkId = command.revoke ?? '';
        const result = await revokeShareLink(context, linkId);
        for (const line of revokeLines(linkId, result)) command.print(line);
        return;
      }
      const created = await createShareLink(context, {
        requestedSeconds: seconds,
        appBase,
        ...(command.includeName ? { name: command.target.key.split('/').pop() ?? '' } : {}),
        label: command.label ?? '',
      });
      command.print(created.link);
      command.print(
        `expires ${new Date(created.expiry.expiresAtMs).toISOString()} (in ${formatSeconds(
          created.expiry.expiresInSeconds,
        )}, ${LIMIT_WORDS[created.expiry.limitedBy]}); link id ${created.entry.id}`,
      );
    } finally {
      opener.close();
      wrapper.close();
    }
  } finally {
    s3.close();
  }
}
