/**
 * Where the app's objects live in the bucket: under config.prefix, with the relative path the
 * user gave (a folder upload keeps its folders as key prefixes). The object key shows the file
 * name, as a file browser must; nothing else (metadata, encryption context) repeats it.
 */
import { objectPrefix, type VeilConfig } from '../../aws/config';
import { VeilError } from '../../core/errors';

/**
 * The prefix the app lists and writes under ('' or ending in '/'). A prefix holding
 * `{identityId}` (one folder per Cognito identity, [Note: per-identity prefix]) needs the
 * caller's identity id.
 * @throws VeilError CREDENTIALS_MISSING for such a prefix without an identity id.
 */
export function rootPrefix(config: Pick<VeilConfig, 'prefix'>, identityId?: string): string {
  const prefix = objectPrefix(config.prefix, identityId).replace(/^\/+/, '');
  return prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
}

/**
 * The object key for a file at `relativePath` (e.g. `photos/2026/a.jpg`) inside `folder` (a
 * prefix below the root, '' for the root).
 * @throws VeilError BAD_ARGUMENT for an empty path or one with `.`/`..` segments;
 *   CREDENTIALS_MISSING as rootPrefix.
 */
export function objectKeyFor(
  config: Pick<VeilConfig, 'prefix'>,
  relativePath: string,
  folder = '',
  identityId?: string,
): string {
  const segments = `${folder}/${relativePath}`.split('/').filter((s) => s.length > 0);
  if (segments.length === 0 || segments.some((s) => s === '.' || s === '..')) {
    throw new VeilError('BAD_ARGUMENT', 'file path');
  }
  return `${rootPrefix(config, identityId)}${segments.join('/')}`;
}
