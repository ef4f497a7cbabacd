/**
 * `veil cp s3://BUCKET/KEY -` against S3 in moto: the plaintext reaches stdout only once the
 * whole message verified, through the private temporary file of `veil cp '<link>' -` ([Note:
 * stdout after verification] in cli/cp-link-stdout.ts). Each run gets its own TMPDIR, checked
 * empty afterwards. Every byte value comes out byte for byte; the attack, a body byte changed
 * near the end by whoever can write to the bucket, gives FRAME_TAMPERED with an empty stdout
 * (the frames before it verified and were held back); SIGINT while the download waits on a
 * range a relay holds back exits 130 with an empty stdout and the temporary file removed.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test, vi } from 'vitest';
import { BIN } from './cli-runner';
import { useCliS3, veilRaw } from './support/cli-s3';
import { startS3Relay } from './support/s3-relay';

vi.setConfig({ testTimeout: 180_000 });

const cli = useCliS3('s3-stdout');
const tmpRoot = mkdtempSync(join(tmpdir(), 'veil-s3-stdout-tmp-'));
let tmpCount = 0;
const freshTmp = () => mkdtempSync(join(tmpRoot, `run${tmpCount++}-`));
/** What a run left in its TMPDIR, besides tsx's compile cache (`tsx-<uid>`, bin/veil.mjs's). */
const leftIn = (tmp: string) => readdirSync(tmp).filter((name) => !name.startsWith('tsx-'));

/** `veil cp --key-file team.jwk s3://... -` with its own TMPDIR; the run and what TMPDIR holds. */
async function toStdout(key: string) {
  const tmp = freshTmp();
  const run = await veilRaw(
    cli,
    { TMPDIR: tmp },
    'cp',
    '--key-file',
    'team.jwk',
    ...cli.aws(),
    cli.url(key),
    '-',
  );
  return { ...run, left: leftIn(tmp) };
}

describe('veil cp s3://BUCKET/KEY -', () => {
  test('writes every byte value, byte for byte, and leaves no temporary file', async () => {
    // Every byte value many times over, across several frames, then random bytes.
    const random = await cli.upload('out/all.bin', 2 * 1024 * 1024 + 7);
    const allValues = Buffer.from(Array.from({ length: 256 * 4096 }, (_, i) => i % 256));
    const file = Buffer.concat([allValues, random]);
    writeFileSync(cli.path('all.bin'), file);
    const up = await cli.veil(
      'cp',
      '--key-file',
      'team.jwk',
      ...cli.aws(),
      'all.bin',
      cli.url('out/all.bin'),
    );
    expect(up.code).toBe(0);
    const run = await toStdout('out/all.bin');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout.length).toBe(file.length);
    expect(run.stdout.equals(file)).toBe(true);
    expect(run.left).toEqual([]);
    // No file named "-" was written in the working folder.
    expect(readdirSync(cli.dir)).not.toContain('-');
  });

  test('a byte changed near the end: FRAME_TAMPERED, stdout empty, nothing left in TMPDIR', async () => {
    await cli.upload('out/tampered.bin', 5 * 1024 * 1024);
    const { bytes } = await cli.stored('out/tampered.bin');
    const at = bytes.length - 100;
    bytes[at] = (bytes[at] ?? 0) ^ 1;
    await cli
      .s3()
      .send(new PutObjectCommand({ Bucket: cli.bucket(), Key: 'out/tampered.bin', Body: bytes }));
    const run = await toStdout('out/tampered.bin');
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^FRAME_TAMPERED/);
    expect(run.stdout.length).toBe(0);
    expect(run.left).toEqual([]);
  });

  test('SIGINT during the download: exit 130, stdout empty, the temporary file removed', async () => {
    await cli.upload('out/slow.bin', 2 * 1024 * 1024);
    const objectPath = `/${cli.bucket()}/out/slow.bin`;
    // Every ranged GET of the object after its first bytes is held: the header is read, the
    // temporary file created, then the body never comes.
    const relay = await startS3Relay(
      cli.aws()[3] ?? '',
      (request) =>
        request.method === 'GET' &&
        decodeURIComponent((request.url ?? '').split('?')[0] ?? '') === objectPath &&
        Number(/bytes=(\d+)-/.exec(request.headers.range ?? '')?.[1] ?? 0) > 0,
    );
    try {
      const tmp = freshTmp();
      const child = spawn(
        process.execPath,
        [
          BIN,
          'cp',
          '--key-file',
          'team.jwk',
          '--region',
          cli.aws()[1] ?? '',
          '--endpoint-url',
          relay.url,
          cli.url('out/slow.bin'),
          '-',
        ],
        { cwd: cli.dir, env: cli.veilEnv({ TMPDIR: tmp }) },
      );
      const stdout: Buffer[] = [];
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      await relay.held;
      // The plaintext's temporary file exists while the body is awaited.
      expect(leftIn(tmp)).toHaveLength(1);
      child.kill('SIGINT');
      expect(await exited).toBe(130);
      expect(stderr).toMatch(/^INTERRUPTED/);
      expect(Buffer.concat(stdout).length).toBe(0);
      expect(leftIn(tmp)).toEqual([]);
    } finally {
      await relay.close();
    }
  });
});

afterAll(() => rmSync(tmpRoot, { recursive: true, force: true }));
