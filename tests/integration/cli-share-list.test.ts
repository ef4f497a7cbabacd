/**
 * `veil share --list` against S3 in moto: what a file is shared with is read from its header and
 * joined with its stored list of links ([Note: links from the header] in
 * transfer/share-list.ts), so whoever can write to the bucket cannot hide a link by touching the
 * list. The attacks: the list deleted, replaced by garbage, or replaced by another file's list
 * (each: the header's link still listed, as `unknown`, with a warning on stderr, and revoking it
 * works, after which the link no longer opens the file), and the object rolled back to a version
 * without the link's key (the entry listed as `gone`). Columns and JSON as share-list.ts says.
 */
import { CopyObjectCommand, DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { describe, expect, test, vi } from 'vitest';
import { payloadOfLink } from '../../src/core/share-link';
import { generateKeyPair, pkcs8ToPem } from '../../src/keyrings/rsa-keys';
import { linkListKey } from '../../src/transfer/share-list';
import { publicKeyPem, useCliS3 } from './support/cli-s3';

vi.setConfig({ testTimeout: 180_000 });

const cli = useCliS3('share-list');
const { veil, recipient } = cli;

const share = (key: string, ...args: string[]) =>
  veil('share', '--key-file', 'team.jwk', ...cli.aws(), ...args, cli.url(key));

/** Makes a link for `key` labelled `label`; its id. */
async function makeLink(key: string, label = 'Ada'): Promise<string> {
  return payloadOfLink(await cli.makeLink(key, '--label', label)).linkId;
}

/** The stored list of links of the file at `key` (plain names: root ''). */
const listKey = (key: string) => linkListKey({ bucket: cli.bucket(), root: '' }, key);

/** The `--list` lines, split into columns. */
function rows(stdout: string): string[][] {
  return stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => line.split('\t'));
}

/** Revokes `linkId`, then checks that its link (made for `key`) no longer opens the file. */
async function revokeAndCheck(key: string, linkId: string, link: string): Promise<void> {
  const revoked = await share(key, '--revoke', linkId);
  expect(revoked.code).toBe(0);
  expect(revoked.stdout).toContain(`revoked ${linkId}: its key was removed from the file`);
  const open = await recipient('cp', link, cli.path(`after-${linkId}.bin`));
  expect(open.code).toBe(1);
  expect(open.stderr).toMatch(/^SHARE_LINK_REVOKED/);
  const listed = await share(key, '--list');
  expect(listed.stdout).not.toContain(linkId);
}

/** Makes a link; the link and its id. */
async function makeFullLink(key: string): Promise<{ link: string; id: string }> {
  const link = await cli.makeLink(key);
  return { link, id: payloadOfLink(link).linkId };
}

describe('veil share --list', () => {
  test('links and people from the header, in stable columns and as JSON', async () => {
    await cli.upload('docs/a.bin', 10_000);
    const linkId = await makeLink('docs/a.bin', 'Ada');
    const bea = await generateKeyPair();
    writeFileSync(cli.path('bea.pub.pem'), publicKeyPem(bea.publicKeySpki));
    writeFileSync(cli.path('bea.pem'), pkcs8ToPem(bea.pkcs8), { mode: 0o600 });
    const aws = cli.aws();
    const published = await veil(
      'people',
      'publish',
      ...aws,
      '--public-key-file',
      'bea.pub.pem',
      '--name',
      'Bea',
      cli.url(''),
    );
    expect(published.code).toBe(0);
    const shared = await share(
      'docs/a.bin',
      '--private-key-file',
      'bea.pem',
      '--label',
      'Ada',
      '--person',
      bea.fingerprint,
    );
    expect(shared.code).toBe(0);

    const listed = await share('docs/a.bin', '--list');
    expect(listed).toMatchObject({ code: 0, stderr: '' });
    const table = rows(listed.stdout);
    expect(table.every((row) => row.length === 7)).toBe(true);
    expect(table).toHaveLength(2);
    const [link = [], person = []] = table;
    expect(link.slice(0, 3)).toEqual(['link', linkId, 'active']);
    expect(link[3]).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(link.slice(5)).toEqual(['no-name', 'Ada']);
    expect(person).toEqual(['person', bea.fingerprint, 'shared', '-', '-', '-', '-']);

    const json = await share('docs/a.bin', '--list', '--json');
    expect(json).toMatchObject({ code: 0, stderr: '' });
    const parsed = JSON.parse(json.stdout) as {
      file: string;
      links: { id: string; state: string; inFile: boolean; listed: boolean; label: string }[];
      people: { fingerprint: string }[];
      listError: unknown;
    };
    expect(parsed.file).toBe(cli.url('docs/a.bin'));
    expect(parsed.links).toMatchObject([
      { id: linkId, state: 'active', inFile: true, listed: true, label: 'Ada' },
    ]);
    expect(parsed.people).toEqual([{ fingerprint: bea.fingerprint }]);
    expect(parsed.listError).toBeNull();
    // --json belongs to --list.
    expect((await share('docs/a.bin', '--revoke', linkId, '--json')).code).toBe(2);
  });

  test('a deleted list: the header’s link is listed as unknown, and revoking it works', async () => {
    await cli.upload('docs/b.bin', 10_000);
    const { link, id } = await makeFullLink('docs/b.bin');
    await cli
      .s3()
      .send(new DeleteObjectCommand({ Bucket: cli.bucket(), Key: await listKey('docs/b.bin') }));
    const listed = await share('docs/b.bin', '--list');
    expect(listed.code).toBe(0);
    expect(rows(listed.stdout)).toEqual([['link', id, 'unknown', '-', '-', '-', '-']]);
    expect(listed.stderr).toContain(`link ${id} opens the file but is not in its list`);
    expect(listed.stderr).toContain(`--revoke ${id}`);
    await revokeAndCheck('docs/b.bin', id, link);
  });

  test('a list replaced by garbage: a warning, and the header’s link still listed', async () => {
    await cli.upload('docs/c.bin', 10_000);
    const { link, id } = await makeFullLink('docs/c.bin');
    await cli.s3().send(
      new PutObjectCommand({
        Bucket: cli.bucket(),
        Key: await listKey('docs/c.bin'),
        Body: randomBytes(300),
      }),
    );
    const listed = await share('docs/c.bin', '--list');
    expect(listed.code).toBe(0);
    expect(rows(listed.stdout)).toEqual([['link', id, 'unknown', '-', '-', '-', '-']]);
    expect(listed.stderr).toMatch(/list of links could not be read \(MALFORMED/);
    const json = JSON.parse((await share('docs/c.bin', '--list', '--json')).stdout) as {
      listError: { code: string } | null;
    };
    expect(json.listError?.code).toBe('MALFORMED');
    await revokeAndCheck('docs/c.bin', id, link);
  });

  test('another file’s list copied over: refused, its links not shown as this file’s', async () => {
    await cli.upload('docs/d.bin', 10_000);
    await cli.upload('docs/e.bin', 10_000);
    const mine = await makeFullLink('docs/d.bin');
    const theirs = await makeLink('docs/e.bin', 'Eve');
    await cli.s3().send(
      new CopyObjectCommand({
        Bucket: cli.bucket(),
        Key: await listKey('docs/d.bin'),
        CopySource: `${cli.bucket()}/${await listKey('docs/e.bin')}`,
      }),
    );
    const listed = await share('docs/d.bin', '--list');
    expect(listed.code).toBe(0);
    expect(rows(listed.stdout)).toEqual([['link', mine.id, 'unknown', '-', '-', '-', '-']]);
    expect(listed.stdout).not.toContain(theirs);
    expect(listed.stdout).not.toContain('Eve');
    expect(listed.stderr).toMatch(/\(OBJECT_MISMATCH/);
    await revokeAndCheck('docs/d.bin', mine.id, mine.link);
  });

  test('an entry whose key the file no longer holds is listed as gone', async () => {
    await cli.upload('docs/f.bin', 10_000);
    const before = await cli.stored('docs/f.bin');
    const { link, id } = await makeFullLink('docs/f.bin');
    // The storage puts back the object as it was before the link's key was added.
    await cli
      .s3()
      .send(new PutObjectCommand({ Bucket: cli.bucket(), Key: 'docs/f.bin', Body: before.bytes }));
    const listed = await share('docs/f.bin', '--list');
    expect(listed).toMatchObject({ code: 0, stderr: '' });
    const [row = []] = rows(listed.stdout);
    expect(row.slice(0, 3)).toEqual(['link', id, 'gone']);
    const open = await recipient('cp', link, cli.path('gone.bin'));
    expect(open.stderr).toMatch(/^SHARE_LINK_REVOKED/);
    const revoked = await share('docs/f.bin', '--revoke', id);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain('the file no longer held its key; removed from the list');
    expect((await share('docs/f.bin', '--list')).stdout).toBe('');
  });
});
