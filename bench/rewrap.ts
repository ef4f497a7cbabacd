/**
 * `npm run bench:rewrap`: changing keys in place against moving the bytes, in moto on loopback.
 *
 * (a) One large object (VEIL_BENCH_MIB, default 256 MiB): `veil rewrap` (the command's own code,
 *     in process: a new header, part 1 sent, the rest UploadPartCopy inside S3) against what it
 *     replaces, `veil cp` down and `veil cp` up again of the same object (the same code in
 *     process). The two alternate, runs of each (VEIL_BENCH_RUNS, default 3): median time, bytes
 *     through the client, and the ratio; and the rewrap's time split into the client's own work
 *     and what moto does for it (UploadPartCopy and Complete copy every byte in Python, where S3
 *     copies inside its own storage).
 * (b) Many small objects (VEIL_BENCH_SMALL, default 1000 objects of 4 KiB under one prefix):
 *     the rewrap batch (scan of every header, then the runs, 4 at once) as `veil rewrap
 *     s3://BUCKET/PREFIX/` does it; objects per second, scan and run apart.
 * (c) `veil cp` upload and download (node bin/veil.mjs, whole process) against `aws s3 cp` of the
 *     same file (VEIL_BENCH_CP_MIB, default 128 MiB) to the same moto, alternating, runs of each
 *     (VEIL_BENCH_CP_RUNS, default 3): median MB/s and the ratio. Skipped without `aws`.
 *
 * The machine's load (os.loadavg) is printed first and last: figures on a shared machine are
 * noisy, so every comparison alternates its two sides and reports medians.
 */
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startMoto } from '../scripts/stack/moto';
import { freePort } from '../scripts/stack/process';
import { downloadFile } from '../src/cli/cp-download';
import { uploadFile } from '../src/cli/cp-upload';
import { rewrapKeys } from '../src/cli/rewrap-keys';
import { rewrapInS3 } from '../src/cli/rewrap-s3';
import { encryptBytes, serializeKeyFile } from '../src/core';
import { RawAesKeyring } from '../src/keyrings/raw-aes';
import { nodeRewrapS3 } from '../src/transfer/node';
import { RewrapBatch, headerReader, scanRewrapBatch } from '../src/transfer/rewrap-batch';
import { downloadS3For } from '../src/transfer/download-s3';
import { objectParams } from '../src/transfer/object-params';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const MiB = 1024 * 1024;
const largeBytes = Number(process.env.VEIL_BENCH_MIB ?? 256) * MiB;
const runs = Number(process.env.VEIL_BENCH_RUNS ?? 3);
const smallCount = Number(process.env.VEIL_BENCH_SMALL ?? 1000);
const smallBytes = 4 * 1024;
const cpBytes = Number(process.env.VEIL_BENCH_CP_MIB ?? 128) * MiB;
const cpRuns = Number(process.env.VEIL_BENCH_CP_RUNS ?? 3);
const BIN = fileURLToPath(new URL('../bin/veil.mjs', import.meta.url));
const CREDENTIALS = { accessKeyId: 'veil-local', secretAccessKey: 'veil-local-secret' };

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
const mbps = (bytes: number, ms: number): number => bytes / 1e6 / (ms / 1000);
const round = (value: number, digits = 1): number => Number(value.toFixed(digits));
const load = (): string =>
  loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');

async function timed<T>(run: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await run();
  return { ms: performance.now() - start, value };
}

/** Random bytes written to `path` in 16 MiB blocks. */
async function randomFile(path: string, totalBytes: number): Promise<void> {
  const out = createWriteStream(path);
  for (let written = 0; written < totalBytes; written += 16 * MiB) {
    const block = randomBytes(Math.min(16 * MiB, totalBytes - written));
    if (!out.write(block)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve, reject) =>
    out.end((error?: Error | null) => (error ? reject(error) : resolve())),
  );
}

/** Runs a command to its end; its wall time in ms. */
function runCommand(command: string, args: readonly string[], env: NodeJS.ProcessEnv) {
  return timed(
    () =>
      new Promise<void>((resolve, reject) => {
        execFile(command, [...args], { env, maxBuffer: 16 * MiB }, (error, _out, stderr) =>
          error
            ? reject(new Error(`${command} ${args[0]}: ${stderr || error.message}`))
            : resolve(),
        );
      }),
  );
}

const dir = await mkdtemp(join(tmpdir(), 'veil-bench-rewrap-'));
const motoPort = await freePort();
const moto = await startMoto(motoPort);
const endpointUrl = `http://127.0.0.1:${motoPort}`;
const region = 'us-east-1';
const env: NodeJS.ProcessEnv = {
  ...process.env,
  AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
  AWS_REGION: region,
  AWS_DEFAULT_REGION: region,
  AWS_PROFILE: '',
  AWS_ENDPOINT_URL: '',
  AWS_ENDPOINT_URL_S3: '',
  XDG_STATE_HOME: join(dir, 'state'),
};
Object.assign(process.env, env);
/** The aws command's environment: an empty AWS_PROFILE or endpoint would be taken literally. */
const awsEnv: NodeJS.ProcessEnv = Object.fromEntries(
  Object.entries(env).filter(([name]) => !/^AWS_(PROFILE|ENDPOINT_URL)/.test(name)),
);
const bucket = 'veil-bench-rewrap';
const s3 = new S3Client({
  region,
  endpoint: endpointUrl,
  credentials: CREDENTIALS,
  forcePathStyle: true,
});
const flags = { region, endpointUrl };
const keyPaths = { x: join(dir, 'x.jwk'), y: join(dir, 'y.jwk') };
const keyBytes = { x: new Uint8Array(randomBytes(32)), y: new Uint8Array(randomBytes(32)) };
const keyFlags = (path: string) => ({ keyFiles: [path], hsmKeys: [], kmsKeys: [], ...flags });
try {
  console.log(`veil rewrap bench, moto on 127.0.0.1; load average at start: ${load()}`);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  for (const name of ['x', 'y'] as const) {
    const text = serializeKeyFile({
      keyBytes: keyBytes[name],
      keyName: `key-${name}`,
      keyNamespace: 'veil',
    });
    await writeFile(keyPaths[name], text, { mode: 0o600 });
  }

  // (a) one large object: rewrap against down + up.
  const largePath = join(dir, 'large.bin');
  await randomFile(largePath, largeBytes);
  const target = { bucket, key: 'large.bin' };
  await uploadFile({
    keys: keyFlags(keyPaths.x),
    s3: flags,
    inPath: largePath,
    target,
    extraContext: {},
    env,
  });
  const rewrapMs: number[] = [];
  /** The rewrap's phases: before the parts (scan, HEAD, header, Create), the parts, Complete. */
  const phases = { client: [] as number[], copies: [] as number[], complete: [] as number[] };
  const roundTripMs: number[] = [];
  let rewrapClientBytes = 0;
  let roundTripClientBytes = 0;
  let holder: 'x' | 'y' = 'x';
  for (let run = 0; run < runs; run++) {
    const to: 'x' | 'y' = holder === 'x' ? 'y' : 'x';
    const keys = await rewrapKeys(
      keyFlags(keyPaths[holder]),
      {
        addKeyFiles: [keyPaths[to]],
        addKmsKeys: [],
        addHsmKeys: [],
        removeKeys: [`key-${holder}`],
      },
      env,
    );
    const marks = new Map<string, number>();
    const startMs = performance.now();
    const rewrap = await timed(() =>
      rewrapInS3({
        onChange: (snapshot) => {
          const state = snapshot.items[0]?.progress?.state;
          if (state && !marks.has(state)) marks.set(state, performance.now() - startMs);
        },
        keys,
        s3: flags,
        location: target,
        prefix: false,
        dryRun: false,
        print: () => undefined,
        env,
      }),
    );
    keys.close();
    holder = to;
    const result = rewrap.value.snapshot?.items[0]?.result;
    if (!result) throw new Error('the rewrap wrote nothing');
    rewrapClientBytes = result.receivedBytes + result.sentBytes;
    rewrapMs.push(rewrap.ms);
    const copyingMs = marks.get('copying') ?? 0;
    const completingMs = marks.get('completing') ?? rewrap.ms;
    phases.client.push(copyingMs);
    phases.copies.push(completingMs - copyingMs);
    phases.complete.push(rewrap.ms - completingMs);

    const outPath = join(dir, 'large.out');
    const roundTrip = await timed(async () => {
      const down = await downloadFile({
        keys: keyFlags(keyPaths[holder]),
        s3: flags,
        source: target,
        outPath,
        force: true,
        env,
      });
      const up = await uploadFile({
        keys: keyFlags(keyPaths[holder]),
        s3: flags,
        inPath: outPath,
        target,
        extraContext: {},
        env,
      });
      return down.objectBytes + up.objectBytes;
    });
    roundTripClientBytes = roundTrip.value;
    roundTripMs.push(roundTrip.ms);
    console.log(
      `  (a) run ${run + 1}: rewrap ${round(rewrap.ms, 0)} ms, down + up ${round(roundTrip.ms, 0)} ms`,
    );
  }
  const a = {
    objectMiB: largeBytes / MiB,
    runs,
    rewrapMs: round(median(rewrapMs), 0),
    roundTripMs: round(median(roundTripMs), 0),
    speedup: round(median(roundTripMs) / median(rewrapMs), 1),
    rewrapClientPhaseMs: round(median(phases.client), 0),
    rewrapCopiesMs: round(median(phases.copies), 0),
    rewrapCompleteMs: round(median(phases.complete), 0),
    clientPhaseSpeedup: round(median(roundTripMs) / median(phases.client), 0),
    rewrapClientMiB: round(rewrapClientBytes / MiB, 2),
    roundTripClientMiB: round(roundTripClientBytes / MiB, 1),
  };
  console.log(
    `(a) ${a.objectMiB} MiB object: rewrap ${a.rewrapMs} ms vs veil cp down + up ${a.roundTripMs} ms ` +
      `(medians of ${runs}): ${a.speedup}x faster; through the client ${a.rewrapClientMiB} MiB vs ` +
      `${a.roundTripClientMiB} MiB\n    the rewrap's phases: scan, HEAD, header and Create ` +
      `${a.rewrapClientPhaseMs} ms (${a.clientPhaseSpeedup}x less than down + up); part 1 sent ` +
      `beside the UploadPartCopy requests ${a.rewrapCopiesMs} ms; last HEAD and Complete ` +
      `${a.rewrapCompleteMs} ms`,
  );

  // (b) many small objects under one prefix, through the batch.
  const keyringX = await RawAesKeyring.fromBytes({
    keyBytes: keyBytes.x.slice(),
    keyName: 'key-x',
    keyNamespace: 'veil',
  });
  const keyringY = await RawAesKeyring.fromBytes({
    keyBytes: keyBytes.y.slice(),
    keyName: 'key-y',
    keyNamespace: 'veil',
  });
  const params = objectParams(true, 'A', { type: 'SSE-S3' });
  const names = Array.from(
    { length: smallCount },
    (_, index) => `small/${String(index).padStart(5, '0')}.bin`,
  );
  for (let start = 0; start < names.length; start += 16) {
    await Promise.all(
      names.slice(start, start + 16).map(async (key) => {
        const body = await encryptBytes(new Uint8Array(randomBytes(smallBytes)), {
          keyring: keyringX,
        });
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ...params }));
      }),
    );
  }
  const scan = await timed(() =>
    scanRewrapBatch({
      prefixes: ['small/'],
      list: async (prefix) => {
        const { listPrefix } = await import('../src/cli/rewrap-s3');
        return listPrefix((command) => s3.send(command), bucket, prefix);
      },
      readHeader: headerReader(downloadS3For(s3), bucket),
      change: { adds: [{ providerId: 'veil', keyName: 'key-y' }] },
      concurrency: 8,
    }),
  );
  const batch = new RewrapBatch({
    plan: scan.value,
    setup: { s3: nodeRewrapS3(s3), bucket, openWith: keyringX, addWith: keyringY },
    concurrency: 4,
  });
  const ran = await timed(() => batch.run());
  const done = ran.value.items.filter((item) => item.state === 'done').length;
  const b = {
    objects: smallCount,
    done,
    scanMs: round(scan.ms, 0),
    runMs: round(ran.ms, 0),
    objectsPerSecond: round(done / ((scan.ms + ran.ms) / 1000), 0),
    runObjectsPerSecond: round(done / (ran.ms / 1000), 0),
  };
  console.log(
    `(b) ${smallCount} objects of ${smallBytes / 1024} KiB under one prefix: ${b.done} rewrapped; ` +
      `scan ${b.scanMs} ms, run ${b.runMs} ms: ${b.objectsPerSecond} objects/s in all ` +
      `(${b.runObjectsPerSecond}/s for the runs alone)`,
  );

  // (c) veil cp against aws s3 cp, whole processes, alternating.
  let c: Record<string, number> | undefined;
  const hasAws = await runCommand('aws', ['--version'], awsEnv).then(
    () => true,
    () => false,
  );
  if (hasAws) {
    const cpPath = join(dir, 'cp.bin');
    await randomFile(cpPath, cpBytes);
    const awsArgs = ['--endpoint-url', endpointUrl, '--region', region, '--only-show-errors'];
    const veilArgs = ['--key-file', keyPaths.x, '--endpoint-url', endpointUrl, '--region', region];
    const times = {
      veilUp: [] as number[],
      awsUp: [] as number[],
      veilDown: [] as number[],
      awsDown: [] as number[],
    };
    for (let run = 0; run < cpRuns; run++) {
      times.veilUp.push(
        (
          await runCommand(
            process.execPath,
            [BIN, 'cp', ...veilArgs, cpPath, `s3://${bucket}/cp-veil.bin`],
            env,
          )
        ).ms,
      );
      times.awsUp.push(
        (
          await runCommand(
            'aws',
            ['s3', 'cp', ...awsArgs, cpPath, `s3://${bucket}/cp-aws.bin`],
            awsEnv,
          )
        ).ms,
      );
      times.veilDown.push(
        (
          await runCommand(
            process.execPath,
            [
              BIN,
              'cp',
              ...veilArgs,
              '--force',
              `s3://${bucket}/cp-veil.bin`,
              join(dir, 'veil.out'),
            ],
            env,
          )
        ).ms,
      );
      times.awsDown.push(
        (
          await runCommand(
            'aws',
            ['s3', 'cp', ...awsArgs, `s3://${bucket}/cp-aws.bin`, join(dir, 'aws.out')],
            awsEnv,
          )
        ).ms,
      );
      console.log(
        `  (c) run ${run + 1}: up veil ${round(times.veilUp.at(-1)!, 0)} ms, aws ${round(times.awsUp.at(-1)!, 0)} ms; ` +
          `down veil ${round(times.veilDown.at(-1)!, 0)} ms, aws ${round(times.awsDown.at(-1)!, 0)} ms`,
      );
    }
    c = {
      fileMiB: cpBytes / MiB,
      veilUpMBps: round(mbps(cpBytes, median(times.veilUp))),
      awsUpMBps: round(mbps(cpBytes, median(times.awsUp))),
      upRatio: round(median(times.awsUp) / median(times.veilUp), 2),
      veilDownMBps: round(mbps(cpBytes, median(times.veilDown))),
      awsDownMBps: round(mbps(cpBytes, median(times.awsDown))),
      downRatio: round(median(times.awsDown) / median(times.veilDown), 2),
    };
    console.log(
      `(c) ${c.fileMiB} MiB, whole processes, medians of ${cpRuns}: upload veil cp ${c.veilUpMBps} vs ` +
        `aws s3 cp ${c.awsUpMBps} MB/s (${c.upRatio}); download ${c.veilDownMBps} vs ` +
        `${c.awsDownMBps} MB/s (${c.downRatio})`,
    );
  } else {
    console.log('(c) skipped: no aws command');
  }
  console.log(`load average at end: ${load()}`);
  console.log(JSON.stringify({ a, b, c }));
} finally {
  s3.destroy();
  await moto.stop();
  await rm(dir, { recursive: true, force: true });
}
