/**
 * `veil cp '<share link>' -` against S3 in moto, with no AWS credentials: the plaintext reaches
 * stdout only once the whole message verified ([Note: stdout after verification] in
 * cli/cp-link-stdout.ts). Each run gets its own TMPDIR, checked empty afterwards: the private
 * temporary file is removed on success, on every failure and on SIGINT. The attacks, each with
 * an empty stdout, a catalogue code on stderr and exit 1: a body byte changed near the end, the
 * object cut after a frame (no final frame: the frames before it verified and were held back),
 * a link past its expiry, and a revoked link. SIGINT is sent while the download waits on a range
 * a local relay holds back, so the temporary file exists when the signal comes.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test, vi } from 'vitest';
import { payloadOfLink, shareLinkUrl, type SharePayload } from '../../src/core/share-link';
import { BIN } from './cli-runner';
import { APP, NO_AWS, useCliS3, veilRaw } from './support/cli-s3';

vi.setConfig({ testTimeout: 180_000 });

const cli = useCliS3('link-stdout');
const tmpRoot = mkdtempSync(join(tmpdir(), 'veil-stdout-tmp-'));
let tmpCount = 0;
const freshTmp = () => mkdtempSync(join(tmpRoot, `run${tmpCount++}-`));
/** What a run left in its TMPDIR, besides tsx's compile cache (`tsx-<uid>`, bin/veil.mjs's). */
const leftIn = (tmp: string) => readdirSync(tmp).filter((name) => !name.startsWith('tsx-'));

/** `veil cp LINK -` with its own TMPDIR; the run and what TMPDIR holds afterwards. */
async function toStdout(link: string) {
  const tmp = freshTmp();
  const run = await veilRaw(cli, { ...NO_AWS, TMPDIR: tmp }, 'cp', link, '-');
  return { ...run, left: leftIn(tmp) };
}

const { makeLink } = cli;

const changed = (link: string, change: Partial<SharePayload>) =>
  shareLinkUrl(APP, { ...payloadOfLink(link), ...change });

/** Puts `bytes` in place of the object at `key` (as whoever can write to the bucket). */
async function replace(key: string, bytes: Uint8Array): Promise<void> {
  await cli.s3().send(new PutObjectCommand({ Bucket: cli.bucket(), Key: key, Body: bytes }));
}

describe('veil cp <share link> -', () => {
  test('writes every byte value, byte for byte, and leaves no temporary file', async () => {
    // Every byte value many times over, across several frames, then random bytes.
    const plaintext = await cli.upload('docs/all.bin', 3 * 1024 * 1024 + 5);
    const allValues = Buffer.from(Array.from({ length: 256 * 4096 }, (_, i) => i % 256));
    const file = Buffer.concat([allValues, plaintext]);
    writeFileSync(cli.path('all.bin'), file);
    const up = await cli.veil(
      'cp',
      '--key-file',
      'team.jwk',
      ...cli.aws(),
      'all.bin',
      cli.url('docs/all.bin'),
    );
    expect(up.code).toBe(0);
    const run = await toStdout(await makeLink('docs/all.bin'));
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout.length).toBe(file.length);
    expect(run.stdout.equals(file)).toBe(true);
    expect(run.left).toEqual([]);
  });

  test('a byte changed near the end: FRAME_TAMPERED, stdout empty', async () => {
    await cli.upload('docs/tampered.bin', 6 * 1024 * 1024);
    const link = await makeLink('docs/tampered.bin');
    const { bytes } = await cli.stored('docs/tampered.bin');
    const at = bytes.length - 100;
    bytes[at] = (bytes[at] ?? 0) ^ 1;
    await replace('docs/tampered.bin', bytes);
    const run = await toStdout(link);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^FRAME_TAMPERED/);
    expect(run.stdout.length).toBe(0);
    expect(run.left).toEqual([]);
  });

  test('the object cut after a frame: TRUNCATED, and the frames verified before it held back', async () => {
    // The cut object has no frame layout, so the engine reads it as one stream and releases
    // each frame as it verifies; only at the end does it find no final frame. A sink that wrote
    // to stdout as frames came would fail this test (tried).
    await cli.upload('docs/cut.bin', 6 * 1024 * 1024 + 1000);
    const link = await makeLink('docs/cut.bin');
    const { bytes } = await cli.stored('docs/cut.bin');
    // The final frame holds the last 1000 bytes of plaintext: its 16-byte tag, the bytes,
    // its 4-byte length, 12-byte IV, 4-byte sequence number and 4-byte end marker.
    await replace('docs/cut.bin', bytes.subarray(0, bytes.length - (16 + 1000 + 4 + 12 + 4 + 4)));
    const run = await toStdout(link);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^TRUNCATED/);
    expect(run.stdout.length).toBe(0);
    expect(run.left).toEqual([]);
  });

  test('an expired and a revoked link: the catalogue code, stdout empty', async () => {
    await cli.upload('docs/small.bin', 50_000);
    const link = await makeLink('docs/small.bin');
    const expired = await toStdout(changed(link, { expiresAtMs: Date.now() - 1000 }));
    expect(expired.code).toBe(1);
    expect(expired.stderr).toMatch(/^SHARE_LINK_EXPIRED/);
    expect(expired.stdout.length).toBe(0);
    const revoke = await cli.veil(
      'share',
      '--key-file',
      'team.jwk',
      ...cli.aws(),
      '--revoke',
      payloadOfLink(link).linkId,
      cli.url('docs/small.bin'),
    );
    expect(revoke.code).toBe(0);
    const revoked = await toStdout(link);
    expect(revoked.code).toBe(1);
    expect(revoked.stderr).toMatch(/^SHARE_LINK_REVOKED/);
    expect(revoked.stdout.length).toBe(0);
    expect(revoked.left).toEqual([]);
  });

  test('SIGINT during the download: exit 130, stdout empty, the temporary file removed', async () => {
    await cli.upload('docs/slow.bin', 2 * 1024 * 1024);
    const link = await makeLink('docs/slow.bin');
    const real = new URL(payloadOfLink(link).url);
    // A relay to S3 that holds back every range after the object's first bytes: the header
    // check passes, the temporary file is created, then the body never comes.
    const held: ServerResponse[] = [];
    let onHeld: () => void = () => undefined;
    const bodyAsked = new Promise<void>((resolve) => (onHeld = resolve));
    const relay = createServer((request: IncomingMessage, response: ServerResponse) => {
      const start = Number(/bytes=(\d+)-/.exec(request.headers.range ?? '')?.[1] ?? 0);
      if (start > 0) {
        held.push(response);
        onHeld();
        return;
      }
      const headers: Record<string, string> = {};
      if (request.headers.range) headers.range = request.headers.range;
      void fetch(new URL(request.url ?? '/', real.origin), { headers }).then(async (answer) => {
        const out: Record<string, string> = {};
        answer.headers.forEach((value, name) => {
          if (name !== 'transfer-encoding' && name !== 'content-encoding') out[name] = value;
        });
        response.writeHead(answer.status, out);
        response.end(Buffer.from(await answer.arrayBuffer()));
      });
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    try {
      const relayed = new URL(real);
      relayed.host = `127.0.0.1:${(relay.address() as AddressInfo).port}`;
      const tmp = freshTmp();
      const child = spawn(
        process.execPath,
        [BIN, 'cp', changed(link, { url: relayed.href }), '-'],
        {
          cwd: cli.dir,
          env: cli.veilEnv({ ...NO_AWS, TMPDIR: tmp }),
        },
      );
      const stdout: Buffer[] = [];
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      await bodyAsked;
      // The plaintext's temporary file exists while the body is awaited.
      expect(leftIn(tmp)).toHaveLength(1);
      child.kill('SIGINT');
      expect(await exited).toBe(130);
      expect(stderr).toMatch(/^INTERRUPTED/);
      expect(Buffer.concat(stdout).length).toBe(0);
      expect(leftIn(tmp)).toEqual([]);
    } finally {
      for (const response of held) response.destroy();
      relay.closeAllConnections();
      await new Promise((resolve) => relay.close(resolve));
    }
  });
});

afterAll(() => rmSync(tmpRoot, { recursive: true, force: true }));
