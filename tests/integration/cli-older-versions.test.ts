/**
 * `veil share --unshare-person` and `--revoke` on a versioned bucket in moto ([Note: removed
 * people and older versions] in transfer/people-versions.ts; cli/older-versions.ts). Al shares a
 * file with Bea (a new version holding her EDK), makes a link (another, still holding it), then
 * takes Bea's access away. The attack: Bea, who can read the bucket, opens an older version by
 * its id with her private key. Without the flag the command names exactly the two versions that
 * hold her key, and her key opens each; run again with --delete-older-versions it deletes them,
 * after which her key opens no version and the current one is the same version as before, still
 * opened by the team key. The link is then revoked with --delete-older-versions: the version
 * that held it is deleted too, and the link's key opens no version left.
 */
import { GetObjectCommand, ListObjectVersionsCommand } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { linkKeyring } from '../../src/aws/share-link';
import { decryptBytes, type Keyring } from '../../src/core';
import { formatFingerprint } from '../../src/core/provider-info';
import { payloadOfLink } from '../../src/core/share-link';
import { RawRsaKeyring } from '../../src/keyrings/raw-rsa';
import { generateKeyPair, pkcs8ToPem, type NewKeyPair } from '../../src/keyrings/rsa-keys';
import { APP, publicKeyPem, useCliS3 } from './support/cli-s3';
import { createFileBucket, removeFileBucket } from './support/shared-stack';

vi.setConfig({ testTimeout: 180_000 });

const cli = useCliS3('older-versions');
const { veil, path } = cli;
const versioned = `veil-older-${randomBytes(4).toString('hex')}`;
const KEY = 'docs/plan.bin';
const URL_ = `s3://${versioned}/${KEY}`;
let aws: string[] = [];
let bea: NewKeyPair;
let al: NewKeyPair;
let plaintext: Buffer;

beforeAll(async () => {
  aws = cli.aws();
  await createFileBucket(cli.s3(), versioned, { versioned: true });
  [bea, al] = await Promise.all([generateKeyPair(), generateKeyPair()]);
  writeFileSync(path('bea.pub.pem'), publicKeyPem(bea.publicKeySpki));
  writeFileSync(path('al.pem'), pkcs8ToPem(al.pkcs8), { mode: 0o600 });
  const published = await veil(
    'people',
    'publish',
    ...aws,
    '--public-key-file',
    'bea.pub.pem',
    '--name',
    'Bea',
    `s3://${versioned}/`,
  );
  expect(published.code).toBe(0);
  plaintext = randomBytes(300_000);
  writeFileSync(path('plan.bin'), plaintext);
  const up = await veil('cp', '--key-file', 'team.jwk', ...aws, 'plan.bin', URL_);
  expect(up).toMatchObject({ code: 0, stderr: '' });
}, 180_000);

afterAll(() => removeFileBucket(cli.s3(), versioned));

/** Every version of KEY (no delete markers), as S3 lists them. */
async function versions(): Promise<{ versionId: string; isLatest: boolean }[]> {
  const listed = await cli
    .s3()
    .send(new ListObjectVersionsCommand({ Bucket: versioned, Prefix: KEY }));
  return (listed.Versions ?? [])
    .filter((v) => v.Key === KEY)
    .map((v) => ({ versionId: v.VersionId ?? '', isLatest: v.IsLatest === true }));
}

async function opens(versionId: string | undefined, keyring: Keyring): Promise<boolean> {
  const reply = await cli.s3().send(
    new GetObjectCommand({
      Bucket: versioned,
      Key: KEY,
      ...(versionId ? { VersionId: versionId } : {}),
    }),
  );
  const bytes = await reply.Body!.transformToByteArray();
  return decryptBytes(bytes, { keyring }).then(
    (opened) => Buffer.from(opened).equals(plaintext),
    () => false,
  );
}

const beaKeyring = () =>
  new RawRsaKeyring({ keyName: bea.fingerprint, privateKey: bea.privateKey });

const share = (...args: string[]) => veil('share', '--key-file', 'team.jwk', ...aws, ...args);

/** The version ids a run's stdout names, in the lines that list versions. */
const namedVersions = (stdout: string) =>
  [...stdout.matchAll(/^ {2}(\S+) {2}\S+$/gm)].map((match) => match[1] ?? '');

describe('older versions after taking a key out', () => {
  let link = '';

  test('--unshare-person names the older versions holding Bea’s key; --delete-older-versions deletes them', async () => {
    const shared = await veil(
      'share',
      '--key-file',
      'team.jwk',
      '--private-key-file',
      'al.pem',
      '--label',
      'Al',
      ...aws,
      '--person',
      formatFingerprint(bea.fingerprint),
      URL_,
    );
    expect(shared).toMatchObject({ code: 0, stderr: '' });
    const made = await share('--expires', '1h', '--app-url', APP, URL_);
    expect(made).toMatchObject({ code: 0, stderr: '' });
    link = made.stdout.split('\n')[0] ?? '';
    const [original] = (await versions()).slice(-1);

    const removed = await share('--unshare-person', bea.fingerprint, URL_);
    expect(removed).toMatchObject({ code: 0, stderr: '' });
    expect(removed.stdout).toContain(`access to ${URL_}`);
    expect(removed.stdout).toContain(`2 older versions of ${URL_} still hold this person’s key`);
    expect(removed.stdout).toContain('--delete-older-versions');
    const named = namedVersions(removed.stdout);
    expect(named).toHaveLength(2);
    const all = await versions();
    const current = all.find((v) => v.isLatest)!;
    expect(all).toHaveLength(4);
    expect(named).not.toContain(current.versionId);
    expect(named).not.toContain(original?.versionId);
    // The attack: Bea opens each version named with her private key; not the current one.
    for (const versionId of named) expect(await opens(versionId, beaKeyring())).toBe(true);
    expect(await opens(undefined, beaKeyring())).toBe(false);
    expect(await versions()).toHaveLength(4); // named, not deleted

    const deleted = await share(
      '--unshare-person',
      bea.fingerprint,
      '--delete-older-versions',
      URL_,
    );
    expect(deleted).toMatchObject({ code: 0, stderr: '' });
    expect(deleted.stdout).toContain(
      `the current version of ${URL_} does not hold this person’s key`,
    );
    expect(deleted.stdout).toContain(`deleted 2 older versions of ${URL_}`);
    const left = await versions();
    expect(left.map((v) => v.versionId).sort()).toEqual(
      [original?.versionId, current.versionId].sort(),
    );
    for (const version of left) expect(await opens(version.versionId, beaKeyring())).toBe(false);
    expect(left.find((v) => v.isLatest)?.versionId).toBe(current.versionId);
    const team = await veil('cp', '--key-file', 'team.jwk', ...aws, URL_, 'team.out');
    expect(team.code).toBe(0);
  });

  test('--revoke --delete-older-versions deletes the version that still held the link', async () => {
    const { linkId, linkKey } = payloadOfLink(link);
    const linkRing = await linkKeyring(linkId, linkKey);
    const before = await versions();
    const holding = before.find((v) => v.isLatest)!;
    expect(await opens(holding.versionId, linkRing)).toBe(true);

    const revoked = await share('--revoke', linkId, '--delete-older-versions', URL_);
    expect(revoked).toMatchObject({ code: 0, stderr: '' });
    expect(revoked.stdout).toContain(`revoked ${linkId}: its key was removed from the file`);
    expect(revoked.stdout).toContain(`deleted version ${holding.versionId} of ${URL_}`);
    const left = await versions();
    expect(left).toHaveLength(before.length); // one written, one deleted
    expect(left.map((v) => v.versionId)).not.toContain(holding.versionId);
    for (const version of left) expect(await opens(version.versionId, linkRing)).toBe(false);
    const team = await veil('cp', '--key-file', 'team.jwk', ...aws, URL_, 'team2.out');
    expect(team.code).toBe(0);
  });

  test('nothing left to delete: said, exit 0; the flag elsewhere is a usage error', async () => {
    const again = await share('--unshare-person', bea.fingerprint, '--delete-older-versions', URL_);
    expect(again).toMatchObject({ code: 0, stderr: '' });
    expect(again.stdout).toContain(`no older version of ${URL_} holds this person’s key`);
    const misplaced = await share('--list', '--delete-older-versions', URL_);
    expect(misplaced.code).toBe(2);
    expect(misplaced.stderr).toMatch(/^USAGE: .*--delete-older-versions/);
  });
});
