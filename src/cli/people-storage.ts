/**
 * The people directory's and inboxes' S3 calls on the command line ([Note: the people directory
 * is untrusted] in transfer/people-directory.ts): the names key storage's whole-object GetObject
 * and PutObject with If-None-Match (names-storage.ts), the reads of directory entries and inbox
 * notes capped as the app caps them (readCapped: aws/capped-read.ts, [Note: capped reads]; a
 * record over its cap is RECORD_TOO_LARGE and never held whole), and the keys under a prefix
 * (every page of ListObjectsV2), over the CLI's S3 client.
 */
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { getCapped } from '../aws/capped-read';
import { s3Failure } from '../core/aws-failure';
import type { PeopleStorage } from '../transfer/people-directory';
import { s3NamesKeyStorage } from './names-storage';

/**
 * The people storage of one bucket.
 * @param task the user's task, named in S3 errors ('people', 'share').
 */
export function cliPeopleStorage(client: S3Client, bucket: string, task: string): PeopleStorage {
  const names = s3NamesKeyStorage(client, bucket, task);
  return {
    read: (key, signal) => names.read(key, signal),
    createOnly: (key, body, signal) => names.createOnly(key, body, signal),
    async readCapped(key, capBytes, signal) {
      try {
        return (await getCapped(client, bucket, key, capBytes, signal))?.bytes;
      } catch (error) {
        throw s3Failure(error, { task, operation: 'GetObject' });
      }
    },
    async list(prefix, signal) {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        let page;
        try {
          page = await client.send(
            new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
            signal ? { abortSignal: signal } : {},
          );
        } catch (error) {
          throw s3Failure(error, { task, operation: 'ListObjectsV2' });
        }
        keys.push(...(page.Contents ?? []).map((o) => o.Key ?? ''));
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return keys;
    },
  };
}
