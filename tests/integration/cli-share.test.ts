/**
 * `veil share` (in process: [Note: command line in process]) against S3 in moto: the link it prints
 * opens the object byte for byte with only what the link holds (its presigned URL fetched without
 * credentials, its key in client-node's RawAesKeyringNode under `veil-link` / the link id); the
 * object's header gains exactly that EDK (veil inspect) and loses it on --revoke, after which the
 * same key no longer opens the object although its URL still answers. The list shows each link
 * without its key. moto does not verify presigned URLs (README "What the local services do not
 * enforce"): these tests check what the link holds and what the header holds, not that S3 refuses a
 * URL; the expiry printed is checked by arithmetic.
 */
import {
  buildClient,
  CommitmentPolicy,
  RawAesKeyringNode,
  RawAesWrappingSuiteIdentifier,
} from '@aws-crypto/client-node';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { describe, expect, test, vi } from 'vitest';
import { payloadOfLink, type SharePayload } from '../../src/core/share-link';
import { APP, useCliS3 } from './support/cli-s3';

vi.setConfig({ testTimeout: 120_000 });

const cli = useCliS3('share');
const { veil, path, upload, url } = cli;

/** Opens the object with only what the link holds: its URL (no credentials) and its key. */
async function openWithLink(payload: SharePayload): Promise<Buffer | string> {
  const response = await fetch(payload.url);
  if (!response.ok) return `HTTP ${response.status}`;
  const message = new Uint8Array(await response.arrayBuffer());
  const keyring = new RawAesKeyringNode({
    keyNamespace: 'veil-link',
    keyName: payload.linkId,
    unencryptedMasterKey: payload.linkKey,
    wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
    utf8Sorting: true,
  });
  const { decrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
  return decrypt(keyring, message).then(
    (opened) => Buffer.from(opened.plaintext),
    (error: unknown) => String(error),
  );
}

/** `veil inspect` of the object as stored now. */
async function inspect(key: string): Promise<string> {
  const file = `inspect-${randomBytes(3).toString('hex')}.bin`;
  writeFileSync(path(file), (await cli.stored(key)).bytes);
  const run = await veil('inspect', file);
  expect(run.code).toBe(0);
  return run.stdout;
}

describe('veil share', () => {
  test('a link opens the object with client-node; revoke removes its EDK', async () => {
    const plaintext = await upload('docs/report.bin', 2 * 1024 * 1024 + 7);
    const before = Date.now();
    const made = await veil(
      'share',
      '--key-file',
      'team.jwk',
      ...cli.aws(),
      '--expires',
      '2h',
      '--app-url',
      APP,
      '--label',
      'Ada',
      url('docs/report.bin'),
    );
    expect(made).toMatchObject({ code: 0, stderr: '' });
    const [link = '', expiryLine = ''] = made.stdout.trim().split('\n');
    expect(link.startsWith(`${APP}#/share/`)).toBe(true);
    // Nothing in the link's readable parts names the file, and without --include-name neither
    // does the payload.
    const payload = payloadOfLink(link);
    expect(payload.name).toBeUndefined();
    expect(payload.sharedBy).toBe('Ada');
    expect(payload.sizeBytes).toBe(plaintext.length);
    // IAM user keys do not expire: the expiry is what was asked, about two hours from now.
    expect(expiryLine).toContain('as asked');
    expect(payload.expiresAtMs).toBeGreaterThanOrEqual(before + 2 * 3600_000 - 1000);
    expect(payload.expiresAtMs).toBeLessThanOrEqual(Date.now() + 2 * 3600_000);
    expect(expiryLine).toContain(new Date(payload.expiresAtMs).toISOString());
    expect(new URL(payload.url).searchParams.get('X-Amz-Expires')).toBe('7200');

    const opened = await openWithLink(payload);
    expect(Buffer.isBuffer(opened) && opened.equals(plaintext)).toBe(true);
    expect(await inspect('docs/report.bin')).toContain(payload.linkId);

    const listed = await veil(
      'share',
      '--key-file',
      'team.jwk',
      ...cli.aws(),
      '--list',
      url('docs/report.bin'),
    );
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(payload.linkId);
    expect(listed.stdout).toContain('\tno-name\t');
    expect(listed.stdout).not.toContain(Buffer.from(payload.linkKey).toString('base64url'));

    const revoked = await veil(
      'share',
      '--key-file',
      'team.jwk',
      ...cli.aws(),
      '--revoke',
      payload.linkId,
      url('docs/report.bin'),
    );
    expect(revoked).toMatchObject({ code: 0, stderr: '' });
    expect(await inspect('docs/report.bin')).not.toContain(payload.linkId);
    // The URL still answers (moto, and AWS until it expires), but the key opens nothing.
    const after = await openWithLink(payload);
    expect(Buffer.isBuffer(after)).toBe(false);
    const relisted = await veil(
      'share',
      '--key-file',
      'team.jwk',
      ...cli.aws(),
      '--list',
      url('docs/report.bin'),
    );
    expect(relisted.stdout).not.toContain(payload.linkId);
    // The file still opens with the team key.
    const down = await veil(
      'cp',
      '--key-file',
      'team.jwk',
      ...cli.aws(),
      url('docs/report.bin'),
      'out.bin',
    );
    expect(down.code).toBe(0);
  });

  test('--include-name carries the name; two links are listed; an unknown id is refused', async () => {
    await upload('docs/named.txt', 1000);
    const share = (...args: string[]) =>
      veil('share', '--key-file', 'team.jwk', ...cli.aws(), ...args, url('docs/named.txt'));
    const first = await share('--expires', '7d', '--app-url', APP, '--include-name');
    expect(first.code).toBe(0);
    const named = payloadOfLink(first.stdout.split('\n')[0]!);
    expect(named.name).toBe('named.txt');
    const second = await share('--expires', '15m', '--app-url', APP);
    const plain = payloadOfLink(second.stdout.split('\n')[0]!);
    const listed = await share('--list');
    expect(listed.stdout).toContain(`${named.linkId}`);
    expect(listed.stdout).toContain(`${plain.linkId}`);
    expect(listed.stdout).toContain('\tname-included\t');
    const unknown = await share('--revoke', 'AAAAAAAAAAAAAAAAAAAAAA');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^SHARE_LINK_NOT_FOUND/);
    const tooLong = await share('--expires', '8d', '--app-url', APP);
    expect(tooLong.code).toBe(2);
    const noApp = await share('--expires', '1h');
    expect(noApp.code).toBe(2);
  });
});
