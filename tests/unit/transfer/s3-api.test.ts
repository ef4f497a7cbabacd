import { describe, expect, test } from 'vitest';
import { withBlobBody } from '../../../src/transfer/s3-api';

describe('withBlobBody', () => {
  test('a part with a checksum goes as one Blob, reused by every attempt', async () => {
    const bytes = new Uint8Array([1, 2, 3, 4]);
    const first = withBlobBody<{ Body: unknown; ChecksumCRC32: string }>({
      Body: bytes,
      ChecksumCRC32: 'AAAAAA==',
    });
    const second = withBlobBody({ Body: bytes, ChecksumCRC32: 'AAAAAA==' });
    expect(first.Body).toBeInstanceOf(Blob);
    expect(second.Body).toBe(first.Body);
    expect(new Uint8Array(await (first.Body as Blob).arrayBuffer())).toEqual(bytes);
    const other = withBlobBody({ Body: new Uint8Array([1, 2, 3, 4]), ChecksumCRC32: 'AAAAAA==' });
    expect(other.Body).not.toBe(first.Body);
  });

  test('without a checksum the body stays as it is', () => {
    const bytes = new Uint8Array([5]);
    expect(withBlobBody({ Body: bytes }).Body).toBe(bytes);
  });
});
