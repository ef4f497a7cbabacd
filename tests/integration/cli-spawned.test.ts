/**
 * Each `veil` command on S3 as users run it, a process of bin/veil.mjs (the bundle `npm run
 * build:cli` makes), against S3 in moto: the other command-line tests run most commands in the
 * test process ([Note: command line in process]), so a fault of the bundle or of the process
 * (its exit status, what reaches stdout and stderr) shows here, once per command. Where a
 * command only reads, the same command run in process must print the same and end the same, so
 * the in-process runner is checked against the process too; so are a usage error and a failure.
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { beforeAll, describe, expect, test } from 'vitest';
import { APP, NO_AWS, publicKeyPem, useCliS3 } from './support/cli-s3';

const cli = useCliS3('spawned');
const { path, url, veil, veilSpawned } = cli;
const team = ['--key-file', 'team.jwk'];
let aws: string[] = [];
let plaintext: Buffer;

beforeAll(async () => {
  aws = cli.aws();
  plaintext = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7) % 256));
  writeFileSync(path('in.bin'), plaintext);
  const keygen = await veilSpawned('keygen', 'second.jwk', '--kid', 'second-key');
  expect(keygen).toMatchObject({ code: 0, stdout: '' });
  expect(keygen.stderr).toMatch(/^wrote second\.jwk \(key name "second-key", mode 0600\)\n$/);
});

/** Runs a command that only reads both ways: the process, and the same in this process. */
async function sameBothWays(...args: string[]) {
  const spawned = await veilSpawned(...args);
  expect(await veil(...args)).toEqual(spawned);
  return spawned;
}

describe('as a process of bin/veil.mjs', () => {
  test('cp up and down, ls, rewrap and mv', async () => {
    const up = await veilSpawned('cp', ...team, ...aws, 'in.bin', url('plain/a.bin'));
    expect(up).toEqual({ code: 0, stdout: '', stderr: '' });
    const down = await veilSpawned('cp', ...team, ...aws, url('plain/a.bin'), 'a.out');
    expect(down).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(readFileSync(path('a.out')).equals(plaintext)).toBe(true);

    const added = await veilSpawned(
      'rewrap',
      ...team,
      '--add-key-file',
      'second.jwk',
      ...aws,
      url('plain/a.bin'),
    );
    expect(added).toMatchObject({ code: 0, stderr: '' });
    const moved = await veilSpawned('mv', ...team, ...aws, url('plain/a.bin'), url('plain/b.bin'));
    expect(moved).toMatchObject({ code: 0, stderr: '' });
    const listed = await sameBothWays('ls', ...aws, url('plain/'));
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/ A +plain\/b\.bin {2}keys: A team-key, A second-key\n$/);
    const bySecond = await veil('cp', '--key-file', 'second.jwk', ...aws, url('plain/b.bin'), 'b');
    expect(bySecond).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(readFileSync(path('b')).equals(plaintext)).toBe(true);
  });

  test('names init and names rotate', async () => {
    const init = await veilSpawned('names', 'init', ...team, ...aws, url('vault/'));
    expect(init).toMatchObject({ code: 0, stderr: '' });
    const up = await veil('cp', ...team, ...aws, 'in.bin', url('vault/plan.txt'));
    expect(up).toEqual({ code: 0, stdout: '', stderr: '' });
    const plan = await sameBothWays('names', 'rotate', '--dry-run', ...team, ...aws, url('vault/'));
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain('plan.txt');
    const rotated = await veilSpawned('names', 'rotate', ...team, ...aws, url('vault/'));
    expect(rotated).toMatchObject({ code: 0, stderr: '' });
    const listed = await sameBothWays('ls', ...team, ...aws, url('vault/'));
    expect(listed.stdout).toMatch(/ vault\/plan\.txt {2}keys: A team-key\n$/);
  });

  test('share, share --list, and the link opened without credentials', async () => {
    const shared = await cli.upload('docs/shared.bin', 70_000);
    const made = await veilSpawned(
      'share',
      ...team,
      ...aws,
      '--expires',
      '1h',
      '--app-url',
      APP,
      url('docs/shared.bin'),
    );
    expect(made.code).toBe(0);
    const link = made.stdout.split('\n')[0] ?? '';
    expect(link.startsWith(APP)).toBe(true);
    const list = await sameBothWays('share', ...team, ...aws, '--list', url('docs/shared.bin'));
    expect(list.code).toBe(0);
    expect(list.stdout.trimEnd().split('\n')).toHaveLength(1);
    const opened = await cli.veilSpawnedWith(NO_AWS, 'cp', link, 'linked.out');
    expect(opened).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(readFileSync(path('linked.out')).equals(shared)).toBe(true);
  });

  test('people publish and people ls', async () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const spki = publicKey.export({ type: 'spki', format: 'der' });
    writeFileSync(path('bea.pub.pem'), publicKeyPem(new Uint8Array(spki)));
    const published = await veilSpawned(
      'people',
      'publish',
      ...aws,
      '--public-key-file',
      'bea.pub.pem',
      '--name',
      'Bea',
      url(''),
    );
    expect(published).toMatchObject({ code: 0, stderr: '' });
    expect(published.stdout).toMatch(
      /^published [0-9a-f ]+ {2}Bea {2}at \.veil\/people\/[0-9a-f]{64}\.json\n$/,
    );
    const listed = await sameBothWays('people', 'ls', ...aws, url(''));
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain('Bea');
  });

  test('a usage error (2) and a failure (1): the same status and line both ways', async () => {
    const usage = await sameBothWays('cp', ...team, 'in.bin', 'out.bin');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/^USAGE: [^\n]+\n$/);
    const failed = await sameBothWays('cp', ...aws, ...team, url('docs/no-such.bin'), 'x.out');
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/^S3_REJECTED: [^\n]+\(download: NotFound\)\n$/);
  });
});
