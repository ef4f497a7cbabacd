/**
 * `veil cp '<share link>' FILE` (in process: [Note: command line in process]) against S3 in moto,
 * with no AWS credentials in its environment: a link made by `veil share` downloads byte for byte
 * (a padded file comes back unpadded; a folder takes the link's name). The attacks, each leaving
 * neither FILE nor a temporary file behind: a revoked link (SHARE_LINK_REVOKED), a link whose key
 * was changed in its fragment (WRONG_KEY), a cut fragment (SHARE_LINK_MALFORMED), a link past its
 * expiry (SHARE_LINK_EXPIRED), an object swapped under the link's key for another one the link key
 * opens but that is bound elsewhere (OBJECT_MISMATCH), and a body byte changed in storage
 * (FRAME_TAMPERED, found after part of the file was written). moto does not verify presigned URLs
 * (README "What the local services do not enforce"), so the expiry is the link's own; S3's "Request
 * has expired" answer is read as SHARE_LINK_EXPIRED in share-download-s3's unit tests.
 */
import { CopyObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test, vi } from 'vitest';
import { toBase64Url } from '../../src/core/bytes';
import { payloadOfLink, shareLinkUrl, type SharePayload } from '../../src/core/share-link';
import { APP, useCliS3 } from './support/cli-s3';

vi.setConfig({ testTimeout: 120_000 });

const cli = useCliS3('link');
const { veil, path, outDir, upload, url, makeLink, recipient } = cli;

/** The link with some of its payload changed (as anyone holding it could). */
function changed(link: string, change: Partial<SharePayload>): string {
  return shareLinkUrl(APP, { ...payloadOfLink(link), ...change });
}

describe('veil cp <share link>', () => {
  test('downloads byte-identically without credentials; a padded file comes back unpadded', async () => {
    const plaintext = await upload('docs/report.bin', 3 * 1024 * 1024 + 11);
    const link = await makeLink('docs/report.bin');
    const out = outDir('plain');
    const down = await recipient('cp', link, join(out, 'report.bin'));
    expect(down).toMatchObject({ code: 0, stderr: '' });
    expect(readFileSync(join(out, 'report.bin')).equals(plaintext)).toBe(true);
    expect(readdirSync(out)).toEqual(['report.bin']);
    // An existing FILE is kept unless --force.
    const again = await recipient('cp', link, join(out, 'report.bin'));
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^OUTPUT_EXISTS/);
    expect((await recipient('cp', '--force', link, join(out, 'report.bin'))).code).toBe(0);
    expect(readFileSync(join(out, 'report.bin')).equals(plaintext)).toBe(true);

    const padded = await upload('docs/padded.txt', 5000, '--pad', 'padme');
    const namedLink = await makeLink('docs/padded.txt', '--include-name');
    const folder = outDir('named');
    expect((await recipient('cp', namedLink, folder)).code).toBe(0);
    expect(readdirSync(folder)).toEqual(['padded.txt']);
    expect(readFileSync(join(folder, 'padded.txt')).equals(padded)).toBe(true);
  });

  test('KEYS and S3 options are refused: the link carries its key and address', async () => {
    const link = await makeLink('docs/report.bin');
    const run = await recipient('cp', '--key-file', 'team.jwk', link, path('x.bin'));
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^USAGE/);
    expect(existsSync(path('x.bin'))).toBe(false);
  });

  test('a changed key, a cut fragment and a past expiry are refused, nothing written', async () => {
    const link = await makeLink('docs/report.bin');
    const payload = payloadOfLink(link);
    const otherKey = randomBytes(32);
    const cases: [string, string, RegExp][] = [
      ['key', changed(link, { linkKey: otherKey }), /^WRONG_KEY: .*link was changed or damaged/],
      ['cut', link.slice(0, link.length - 9), /^SHARE_LINK_MALFORMED/],
      ['expired', changed(link, { expiresAtMs: Date.now() - 1000 }), /^SHARE_LINK_EXPIRED/],
    ];
    for (const [name, bad, code] of cases) {
      const out = outDir(`bad-${name}`);
      const run = await recipient('cp', bad, join(out, 'report.bin'));
      expect(run.code, name).toBe(1);
      expect(run.stderr, name).toMatch(code);
      expect(readdirSync(out), name).toEqual([]);
      expect(run.stderr).not.toContain(toBase64Url(otherKey));
      expect(run.stderr).not.toContain(toBase64Url(payload.linkKey));
    }
  });

  test('a revoked link is refused as revoked, and nothing is written', async () => {
    await upload('docs/revoked.bin', 100_000);
    const link = await makeLink('docs/revoked.bin');
    expect((await recipient('cp', link, path('before.bin'))).code).toBe(0);
    const revoke = await veil(
      'share',
      '--key-file',
      'team.jwk',
      ...cli.aws(),
      '--revoke',
      payloadOfLink(link).linkId,
      url('docs/revoked.bin'),
    );
    expect(revoke.code).toBe(0);
    const out = outDir('revoked');
    const run = await recipient('cp', link, join(out, 'revoked.bin'));
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^SHARE_LINK_REVOKED/);
    expect(readdirSync(out)).toEqual([]);
  });

  test('an object swapped under the link, which its key opens, is refused (OBJECT_MISMATCH)', async () => {
    await upload('docs/a.bin', 200_000);
    await upload('docs/b.bin', 200_000);
    const link = await makeLink('docs/a.bin');
    const payload = payloadOfLink(link);
    // The same link key added to b.bin, as a raw AES key veil-link / link id ...
    writeFileSync(
      path('link.jwk'),
      JSON.stringify({
        kty: 'oct',
        k: toBase64Url(payload.linkKey),
        kid: payload.linkId,
        namespace: 'veil-link',
      }),
      { mode: 0o600 },
    );
    const added = await veil(
      'rewrap',
      '--key-file',
      'team.jwk',
      ...cli.aws(),
      '--add-key-file',
      'link.jwk',
      url('docs/b.bin'),
    );
    expect(added.code).toBe(0);
    // ... then b.bin, bound to its own key, copied over a.bin by the storage.
    await cli.s3().send(
      new CopyObjectCommand({
        Bucket: cli.bucket(),
        Key: 'docs/a.bin',
        CopySource: `${cli.bucket()}/docs/b.bin`,
      }),
    );
    const out = outDir('swapped');
    const run = await recipient('cp', link, join(out, 'a.bin'));
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^OBJECT_MISMATCH/);
    expect(readdirSync(out)).toEqual([]);
  });

  test('a body byte changed in storage stops the download and removes what was written', async () => {
    await upload('docs/long.bin', 6 * 1024 * 1024);
    const link = await makeLink('docs/long.bin');
    const { bytes } = await cli.stored('docs/long.bin');
    const at = bytes.length - 100;
    bytes[at] = (bytes[at] ?? 0) ^ 1;
    await cli
      .s3()
      .send(new PutObjectCommand({ Bucket: cli.bucket(), Key: 'docs/long.bin', Body: bytes }));
    const out = outDir('tampered');
    const run = await recipient('cp', link, join(out, 'long.bin'));
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^FRAME_TAMPERED/);
    expect(readdirSync(out)).toEqual([]);
  });
});
