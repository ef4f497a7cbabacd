/**
 * An in-memory versioned bucket for the Versions dialog's core, honest about what it checks:
 * versions of a key newest first, ListObjectVersions pages of `maxKeys` entries over keys in
 * order with key and version markers, If-Match and CopySourceIfMatch enforced, a copy made a new
 * current version and the old one kept, DeleteObject with VersionId final (the next version
 * becomes current). Chosen calls can fail with an SDK-shaped error.
 */
import { createHash } from 'node:crypto';
import type {
  ListedVersion,
  VersionFacts,
  VersioningState,
  VersionsS3,
} from '../../../../src/aws/object-versions';
import type { DownloadS3 } from '../../../../src/transfer/download-s3';
import type { RewrapS3 } from '../../../../src/transfer/rewrap-s3';
import { s3Error } from '../../transfer/fake-s3';

interface StoredVersion {
  versionId: string;
  body: Uint8Array;
  etag: string;
  lastModifiedMs: number;
  deleteMarker: boolean;
  metadata: Record<string, string>;
  /** What HEAD reports, when set (a huge or SSE-C version without the bytes). */
  facts?: Partial<VersionFacts>;
}

export type VersionsCall =
  'versioning' | 'list' | 'head' | 'get' | 'copy' | 'delete' | 'rewrap-head' | 'rewrap-delete';

export class FakeVersionedBucket {
  versioning: VersioningState = 'enabled';
  /** Newest first, per key. */
  readonly keys = new Map<string, StoredVersion[]>();
  readonly calls: VersionsCall[] = [];
  failWith: (call: VersionsCall) => Error | undefined = () => undefined;
  #clockMs = Date.UTC(2026, 0, 2, 3, 4);
  #nextId = 1;

  /** Writes a new current version of `key`; returns its id. */
  put(key: string, body: Uint8Array, metadata: Record<string, string> = {}): string {
    return this.#add(key, { body, metadata, deleteMarker: false });
  }

  /** Hides `key` behind a delete marker; returns its id. */
  markDeleted(key: string): string {
    return this.#add(key, { body: new Uint8Array(0), metadata: {}, deleteMarker: true });
  }

  /** The versions of `key`, newest first. */
  versionsOf(key: string): StoredVersion[] {
    return this.keys.get(key) ?? [];
  }

  #add(key: string, version: Pick<StoredVersion, 'body' | 'metadata' | 'deleteMarker'>): string {
    const versionId = this.versioning === 'enabled' ? `v${this.#nextId++}` : 'null';
    this.#clockMs += 60_000;
    const stored: StoredVersion = {
      ...version,
      versionId,
      body: version.body.slice(),
      etag: version.deleteMarker ? '' : `"${createHash('md5').update(version.body).digest('hex')}"`,
      lastModifiedMs: this.#clockMs,
    };
    const list = (this.keys.get(key) ?? []).filter((other) => other.versionId !== versionId);
    this.keys.set(key, [stored, ...list]);
    return versionId;
  }

  #find(key: string, versionId: string): StoredVersion {
    const found = this.versionsOf(key).find((version) => version.versionId === versionId);
    if (!found) throw s3Error('NoSuchVersion', 404);
    if (found.deleteMarker) throw s3Error('MethodNotAllowed', 405);
    return found;
  }

  #fail(call: VersionsCall): void {
    this.calls.push(call);
    const error = this.failWith(call);
    if (error) throw error;
  }

  /** The Versions dialog's seam over this bucket. */
  s3(): VersionsS3 {
    const head = (key: string, versionId: string): Promise<VersionFacts> => {
      this.#fail('head');
      const found = this.#find(key, versionId);
      return Promise.resolve({
        metadata: found.metadata,
        serverSideEncryption: undefined,
        etag: found.etag,
        contentType: 'application/octet-stream',
        sizeBytes: found.body.length,
        sseKmsKeyId: undefined,
        bucketKeyEnabled: undefined,
        sseCustomerAlgorithm: undefined,
        storageClass: undefined,
        ...found.facts,
      });
    };
    const read = (key: string, versionId: string, start: number, end: number, ifMatch?: string) => {
      this.#fail('get');
      const found = this.#find(key, versionId);
      if (ifMatch !== undefined && ifMatch !== found.etag) throw s3Error('PreconditionFailed', 412);
      if (start >= found.body.length) throw s3Error('InvalidRange', 416);
      return { found, bytes: found.body.slice(start, Math.min(end, found.body.length)) };
    };
    return {
      versioning: () => {
        this.#fail('versioning');
        return Promise.resolve(this.versioning);
      },
      listVersions: (request) => {
        this.#fail('list');
        const all: ListedVersion[] = [...this.keys.keys()]
          .filter((key) => key.startsWith(request.prefix))
          .sort()
          .flatMap((key) =>
            this.versionsOf(key).map((version, index) => ({
              key,
              versionId: version.versionId,
              isLatest: index === 0,
              deleteMarker: version.deleteMarker,
              lastModifiedMs: version.lastModifiedMs,
              sizeBytes: version.body.length,
              etag: version.deleteMarker ? undefined : version.etag,
            })),
          );
        let start = 0;
        if (request.marker) {
          const { keyMarker, versionIdMarker } = request.marker;
          start = all.findIndex((v) => v.key === keyMarker && v.versionId === versionIdMarker) + 1;
        }
        const maxKeys = request.maxKeys ?? 1000;
        const page = all.slice(start, start + maxKeys);
        const last = page.at(-1);
        const truncated = start + maxKeys < all.length;
        return Promise.resolve({
          // S3 returns versions and delete markers in two lists.
          versions: [...page.filter((v) => !v.deleteMarker), ...page.filter((v) => v.deleteMarker)],
          next:
            truncated && last
              ? { keyMarker: last.key, versionIdMarker: last.versionId }
              : undefined,
        });
      },
      headVersion: head,
      restoreVersion: (key, versionId, facts) => {
        this.#fail('copy');
        const found = this.#find(key, versionId);
        if (facts.etag !== undefined && facts.etag !== found.etag) {
          throw s3Error('PreconditionFailed', 412);
        }
        return Promise.resolve(
          this.#add(key, { body: found.body, metadata: found.metadata, deleteMarker: false }),
        );
      },
      deleteVersion: (key, versionId) => {
        this.#fail('delete');
        this.keys.set(
          key,
          this.versionsOf(key).filter((version) => version.versionId !== versionId),
        );
        return Promise.resolve();
      },
      downloadS3: (versionId): DownloadS3 => ({
        headObject: async (_bucket, key) => {
          const facts = await head(key, versionId);
          return {
            contentLength: facts.sizeBytes ?? 0,
            etag: facts.etag,
            metadata: facts.metadata,
            contentType: facts.contentType,
          };
        },
        getRange: (request) => {
          const { found, bytes } = read(
            request.key,
            versionId,
            request.startBytes,
            request.endBytes,
            request.ifMatch,
          );
          return Promise.resolve({
            bytes,
            etag: found.etag,
            metadata: found.metadata,
            totalBytes: found.body.length,
          });
        },
      }),
      probeS3: (versionId) => ({
        head: (key) => head(key, versionId),
        firstBytes: (key, countBytes) => {
          const { found, bytes } = read(key, versionId, 0, countBytes);
          return Promise.resolve({
            bytes,
            metadata: found.metadata,
            serverSideEncryption: undefined,
            etag: found.etag,
            contentType: 'application/octet-stream',
            sizeBytes: found.body.length,
          });
        },
        range: (key, startBytes, endBytes) =>
          Promise.resolve(read(key, versionId, startBytes, endBytes).bytes),
      }),
    };
  }

  /** The rewrap seam's HEAD (the current version) and DeleteObject with VersionId. */
  rewrapS3(): RewrapS3 {
    return {
      headObject: (_bucket: string, key: string) => {
        this.#fail('rewrap-head');
        const current = this.versionsOf(key)[0];
        if (!current || current.deleteMarker) return Promise.reject(s3Error('NotFound', 404));
        return Promise.resolve({
          contentLength: current.body.length,
          etag: current.etag,
          versionId: current.versionId,
        });
      },
      deleteObjectVersion: (input: { Key: string; VersionId: string }) => {
        this.#fail('rewrap-delete');
        this.keys.set(
          input.Key,
          this.versionsOf(input.Key).filter((version) => version.versionId !== input.VersionId),
        );
        return Promise.resolve({ $metadata: {} });
      },
    } as unknown as RewrapS3;
  }
}
