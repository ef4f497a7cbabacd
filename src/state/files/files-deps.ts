/**
 * What the Files view's state reads from the app, injected into FilesBrowser (tests and other
 * hosts pass their own): the session, the bucket's S3 calls and the location's names.
 */
import type { VeilConfig } from '../../aws/config';
import { bucketS3For, type BucketS3, type FilesS3 } from '../../aws/bucket-s3';
import { downloadS3For, type DownloadS3 } from '../../transfer/download-s3';
import type { LocationNames } from '../../transfer/location-names';
import { awsSession } from '../shared/credentials.svelte';
import { locationNames } from '../shared/location-names.svelte';

/** The app's objects the Files view reads, injected (tests and other hosts pass their own). */
export interface FilesDeps {
  readonly session: {
    /** True when the session has AWS credentials. */
    readonly ready: boolean;
    /** The Cognito identity id, '' when there is none. */
    readonly identityId: string;
  };
  s3(bucket: string): FilesS3;
  downloadS3(): DownloadS3;
  /**
   * The current location's names (locationNames.open); absent: plain names, no `.veil/` hidden.
   * @throws VeilError CREDENTIALS_MISSING when the root prefix cannot be formed yet.
   */
  names?(config: VeilConfig): Promise<LocationNames>;
}

/** The app's own: the signed-in session's clients and names. */
export const appDeps: FilesDeps = {
  session: {
    get ready() {
      return awsSession.status.state === 'ready';
    },
    get identityId() {
      return awsSession.identityId;
    },
  },
  s3: (bucket) => bucketS3For(awsSession.clients().s3(), bucket),
  downloadS3: () => downloadS3For(awsSession.clients().s3()),
  names: (config) => locationNames.open(config),
};

/** The bucket's S3 calls with the session's credentials (new folder markers, searches). */
export function appBucketS3(bucket: string): BucketS3 {
  return bucketS3For(awsSession.clients().s3(), bucket);
}
