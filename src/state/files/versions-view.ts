/**
 * What the Versions dialog shows (VersionsView) and how its failures read: the view's shape, a
 * fresh one, S3 refusals as catalogue codes, and whether the bucket keeps versions.
 */
import type { VersioningState, VersionsS3 } from '../../aws/object-versions';
import { VeilError, errorName, httpStatusOf, s3Failure } from '../../core';
import type { ShownError } from '../app/shown-error';
import type { SizeCell } from './sizes';
import type { FileVersion } from './versions-list';

/** The file whose versions are shown: its stored key and its clear name. */
export interface VersionedFile {
  readonly key: string;
  readonly name: string;
}

/** What the dialog shows (the wrapper makes it reactive). */
export interface VersionsView {
  phase: 'loading' | 'ready' | 'failed';
  /** 'unknown' when the bucket would not say (s3:GetBucketVersioning refused). */
  versioning: VersioningState | 'unknown';
  /** Newest first. */
  versions: FileVersion[];
  /** False while older versions may be on a page not listed yet. */
  complete: boolean;
  loadingMore: boolean;
  error: ShownError | undefined;
  /** The version a restore or delete is running on. */
  working: { readonly versionId: string; readonly action: 'restore' | 'delete' } | undefined;
  actionError: ShownError | undefined;
  /** The last thing done, for the status region. */
  notice: string;
  /** Plaintext sizes by version id, once asked for. */
  sizes: Record<string, SizeCell>;
  sizing: boolean;
  /** True once a restore or delete changed the file (the listing is then refreshed). */
  changed: boolean;
}

/** A fresh view, loading. */
export function emptyVersionsView(): VersionsView {
  return {
    phase: 'loading',
    versioning: 'unknown',
    versions: [],
    complete: false,
    loadingMore: false,
    error: undefined,
    working: undefined,
    actionError: undefined,
    notice: '',
    sizes: {},
    sizing: false,
    changed: false,
  };
}

/**
 * A failure on versions as a catalogue code: an S3 refusal (403) names the permission the call
 * needs (VERSIONS_DENIED); a version that became current meanwhile is VERSIONS_CHANGED.
 */
export function versionsFailure(error: unknown, operation: string, permission: string): VeilError {
  if (error instanceof VeilError && error.code === 'REWRAP_VERSION_CURRENT') {
    return new VeilError('VERSIONS_CHANGED', 'that version is the current one now', {
      cause: error,
    });
  }
  const answer = error instanceof VeilError ? error.cause : error;
  if (httpStatusOf(answer) === 403 || errorName(answer) === 'AccessDenied') {
    return new VeilError('VERSIONS_DENIED', `${operation} needs ${permission}`, { cause: error });
  }
  return error instanceof VeilError ? error : s3Failure(error, { task: 'versions', operation });
}

/** Whether the bucket keeps versions; 'unknown' without s3:GetBucketVersioning. */
export async function versioningOf(s3: VersionsS3): Promise<VersioningState | 'unknown'> {
  try {
    return await s3.versioning();
  } catch (error) {
    // Without s3:GetBucketVersioning the listing itself tells (ids other than 'null').
    if (httpStatusOf(error) === 403 || errorName(error) === 'AccessDenied') return 'unknown';
    throw error;
  }
}
