/**
 * The set-up the command-line tests on S3 share (cli-link, cli-people, cli-share,
 * cli-share-list, cli-link-stdout, cli-spawned): the local stack, a test folder removed
 * afterwards, the `veil` runners in it (cli-runner.ts), an S3 client for the stack's bucket, the region and
 * endpoint options every command takes, and a team key file (team.jwk, key name team-key)
 * uploads are made with. Call `useCliS3` once at the top of a test file: it registers its own
 * beforeAll and afterAll.
 */
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { LOCAL_CREDENTIALS } from '../../../scripts/stack/provision';
import { toBase64 } from '../../../src/core/bytes';
import { BIN, cliRunner } from '../cli-runner';
import { useLocalStack } from '../local-stack';

/** The app URL links are made for (never fetched). */
export const APP = 'http://app.example/veil/';

/** The environment of a link's recipient: no AWS credentials at all. */
export const NO_AWS = { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_SESSION_TOKEN: '' };

/** What a CLI test on S3 works with; the S3 values are set once the stack started. */
export interface CliS3 {
  /** The test folder (the runner's working directory). */
  readonly dir: string;
  /** A path in the test folder. */
  readonly path: (name: string) => string;
  /** A fresh empty folder in the test folder. */
  readonly outDir: (name: string) => string;
  readonly veil: ReturnType<typeof cliRunner>['veil'];
  readonly veilWith: ReturnType<typeof cliRunner>['veilWith'];
  readonly veilEnv: ReturnType<typeof cliRunner>['veilEnv'];
  /** `veil` as a process of bin/veil.mjs ([Note: command line in process]). */
  readonly veilSpawned: ReturnType<typeof cliRunner>['veilSpawned'];
  readonly veilSpawnedWith: ReturnType<typeof cliRunner>['veilSpawnedWith'];
  /** The S3 client, the bucket and `--region R --endpoint-url URL` for the stack. */
  readonly s3: () => S3Client;
  readonly bucket: () => string;
  readonly aws: () => string[];
  /** `s3://BUCKET/KEY` in the stack's bucket. */
  readonly url: (key: string) => string;
  /** Uploads random bytes with team.jwk (`veil cp`), extra options after KEYS; the bytes. */
  readonly upload: (key: string, sizeBytes: number, ...extra: string[]) => Promise<Buffer>;
  /** The object's bytes and ETag as stored now. */
  readonly stored: (key: string) => Promise<{ bytes: Uint8Array; etag: string }>;
  /** `veil share` with team.jwk, `--expires 1h --app-url APP` and `extra`: the link printed. */
  readonly makeLink: (key: string, ...extra: string[]) => Promise<string>;
  /** `veil` run as a link's recipient, without AWS credentials (NO_AWS). */
  readonly recipient: (...args: string[]) => ReturnType<ReturnType<typeof cliRunner>['veil']>;
}

/**
 * Starts the stack for this test file and sets up what CLI tests on S3 share (see the header).
 * @param name a word for the test folder's name.
 */
export function useCliS3(name: string): CliS3 {
  const local = useLocalStack(['http://127.0.0.1:5993']);
  const dir = mkdtempSync(join(tmpdir(), `veil-cli-${name}-`));
  const path = (file: string) => join(dir, file);
  const runner = cliRunner(dir, join(dir, 'state'));
  let client: S3Client | undefined;
  let bucket = '';
  let aws: string[] = [];
  const url = (key: string) => `s3://${bucket}/${key}`;

  beforeAll(async () => {
    bucket = local.stack.config.bucket;
    aws = ['--region', local.stack.config.region, '--endpoint-url', local.stack.motoUrl];
    client = new S3Client({
      region: local.stack.config.region,
      endpoint: local.stack.motoUrl,
      credentials: LOCAL_CREDENTIALS,
      forcePathStyle: true,
    });
    expect((await runner.veil('keygen', 'team.jwk', '--kid', 'team-key')).code).toBe(0);
  });
  afterAll(() => {
    client?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const s3 = (): S3Client => {
    if (!client) throw new Error('the local stack has not started yet');
    return client;
  };

  return {
    dir,
    path,
    outDir: (folder) => {
      const made = path(folder);
      mkdirSync(made);
      return made;
    },
    veil: runner.veil,
    veilWith: runner.veilWith,
    veilEnv: runner.veilEnv,
    veilSpawned: runner.veilSpawned,
    veilSpawnedWith: runner.veilSpawnedWith,
    s3,
    bucket: () => bucket,
    aws: () => aws,
    url,
    async upload(key, sizeBytes, ...extra) {
      const plaintext = randomBytes(sizeBytes);
      writeFileSync(path('in.bin'), plaintext);
      const up = await runner.veil(
        'cp',
        '--key-file',
        'team.jwk',
        ...aws,
        ...extra,
        'in.bin',
        url(key),
      );
      expect(up).toMatchObject({ code: 0, stderr: '' });
      return plaintext;
    },
    async stored(key) {
      const reply = await s3().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return { bytes: await reply.Body!.transformToByteArray(), etag: reply.ETag ?? '' };
    },
    async makeLink(key, ...extra) {
      const made = await runner.veil(
        'share',
        '--key-file',
        'team.jwk',
        ...aws,
        '--expires',
        '1h',
        '--app-url',
        APP,
        ...extra,
        url(key),
      );
      expect(made).toMatchObject({ code: 0, stderr: '' });
      return made.stdout.split('\n')[0] ?? '';
    },
    recipient: (...args) => runner.veilWith(NO_AWS, ...args),
  };
}

/** A public key (SubjectPublicKeyInfo) as the PEM `veil people publish` reads. */
export function publicKeyPem(spki: Uint8Array): string {
  const lines = toBase64(spki).match(/.{1,64}/g) ?? [];
  return `-----BEGIN PUBLIC KEY-----\n${lines.join('\n')}\n-----END PUBLIC KEY-----\n`;
}

/** How one run ended, with stdout as bytes. */
export interface RawRun {
  code: number;
  stdout: Buffer;
  stderr: string;
}

/**
 * Runs `veil` as a process of bin/veil.mjs, as `cli.veilSpawnedWith` does, keeping stdout as
 * bytes (for binary output through a pipe).
 */
export function veilRaw(cli: CliS3, extra: NodeJS.ProcessEnv, ...args: string[]): Promise<RawRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: cli.dir, env: cli.veilEnv(extra), encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) =>
        resolve({
          code: error ? (typeof error.code === 'number' ? error.code : 1) : 0,
          stdout,
          stderr: stderr.toString('utf8'),
        }),
    );
  });
}
