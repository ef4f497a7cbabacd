/**
 * `npm run bench:names`: what private names cost a listing, in moto on loopback.
 *
 * One bucket, two folders of VEIL_BENCH_OBJECTS objects each (default 10,000; a 100-byte file
 * encrypted with a raw AES key, bound to its key as `veil cp` writes it): `plain/` with plain
 * names and `private/` with private names (its names key made as `veil names init` makes it).
 *
 * (a) The listing as `veil ls` does it, without the headers: the names key searched for and
 *     opened (private) or not found (plain), every ListObjectsV2 page, and every key named
 *     (ls-names.ts: opened back to its clear key under private names). Runs alternate, private
 *     and plain (VEIL_BENCH_RUNS, default 5): medians and the ratio, the target being 1.5 or
 *     less; and the naming alone (CPU, in this process) per object.
 * (b) The whole `veil ls` (listObjects: each object's header read too, 8 at once), private and
 *     plain, VEIL_BENCH_FULL_RUNS runs each (default 1; 0 skips it): medians and the ratio.
 *
 * The machine's load (os.loadavg) is printed first and last: figures on a shared machine are
 * noisy, so the two sides alternate and medians are reported.
 */
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMoto } from '../scripts/stack/moto';
import { freePort } from '../scripts/stack/process';
import { listObjects } from '../src/cli/ls';
import { listingScope, listPages, nameObjects, type ListedObject } from '../src/cli/ls-names';
import { namesFor, storedKeyOf } from '../src/cli/names';
import { s3NamesKeyStorage } from '../src/cli/names-storage';
import { cliS3 } from '../src/cli/s3-client';
import { encryptBytes, serializeKeyFile } from '../src/core';
import type { Keyring } from '../src/core/keyring';
import { RawAesKeyring } from '../src/keyrings/raw-aes';
import { buildUploadContext } from '../src/keyrings/upload-context';
import type { LocationNames } from '../src/transfer/location-names';
import { ensureNamesKey } from '../src/transfer/names-key';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const objectCount = Number(process.env.VEIL_BENCH_OBJECTS ?? 10_000);
const runs = Number(process.env.VEIL_BENCH_RUNS ?? 5);
const fullRuns = Number(process.env.VEIL_BENCH_FULL_RUNS ?? 1);
const PUTS_IN_FLIGHT = 32;
const CREDENTIALS = { accessKeyId: 'veil-local', secretAccessKey: 'veil-local-secret' };

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
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

const dir = await mkdtemp(join(tmpdir(), 'veil-bench-names-'));
const motoPort = await freePort();
const moto = await startMoto(motoPort);
const endpointUrl = `http://127.0.0.1:${motoPort}`;
const region = 'us-east-1';
Object.assign(process.env, {
  AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
  AWS_REGION: region,
  AWS_PROFILE: '',
  AWS_ENDPOINT_URL: '',
  AWS_ENDPOINT_URL_S3: '',
});
const flags = { region, endpointUrl };
const bucket = 'veil-bench-names';
const s3 = new S3Client({
  region,
  endpoint: endpointUrl,
  credentials: CREDENTIALS,
  forcePathStyle: true,
});
const keyMaterial = {
  keyBytes: crypto.getRandomValues(new Uint8Array(32)),
  keyName: 'bench-key',
  keyNamespace: 'veil',
};
/** The same key as a key file, for the whole `veil ls` of (b); written first (fromBytes wipes). */
const keyFile = join(dir, 'bench.jwk');
await writeFile(keyFile, serializeKeyFile(keyMaterial), { mode: 0o600 });
const keyring: Keyring = await RawAesKeyring.fromBytes(keyMaterial);

/** The names of `folder` as `veil ls` finds them. */
async function namesOf(client: S3Client, folder: string): Promise<LocationNames> {
  const storage = s3NamesKeyStorage(client, bucket, 'list');
  return namesFor(storage, { bucket, key: folder }, 'folder', () => Promise.resolve(keyring));
}

/** Writes `objectCount` small encrypted objects in `folder`, each bound to its stored key. */
async function fill(names: LocationNames, folder: string): Promise<void> {
  const context = buildUploadContext({ bucket });
  const body = new Uint8Array(100);
  let next = 0;
  const worker = async () => {
    for (let index = next++; index < objectCount; index = next++) {
      const key = storedKeyOf(names, `${folder}file-${String(index).padStart(5, '0')}.txt`);
      const message = await encryptBytes(body, {
        keyring,
        encryptionContext: context,
        location: { bucket, key },
      });
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: message }));
    }
  };
  await Promise.all(Array.from({ length: PUTS_IN_FLIGHT }, worker));
}

/** (a) One listing of `folder` without the headers; the number of objects named. */
async function listNames(folder: string): Promise<number> {
  const client = await cliS3(flags);
  try {
    const names = await namesOf(client.client, folder);
    const scope = listingScope(names, folder);
    let count = 0;
    for await (const page of listPages(client.client, bucket, scope.prefix)) {
      count += nameObjects(names, scope, page).filter((object) => object.nameOpened).length;
    }
    return count;
  } finally {
    client.close();
  }
}

try {
  console.log(`veil names bench, moto on 127.0.0.1; load average at start: ${load()}`);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await ensureNamesKey(
    s3NamesKeyStorage(s3, bucket, 'names init'),
    { bucket, root: 'private/' },
    keyring,
    buildUploadContext({ bucket }),
  );
  const setup = await timed(async () => {
    await fill(await namesOf(s3, 'plain/'), 'plain/');
    await fill(await namesOf(s3, 'private/'), 'private/');
  });
  console.log(`setup: 2 x ${objectCount} objects in ${round(setup.ms / 1000)} s`);

  // (a) the listing, alternating.
  const times = { private: [] as number[], plain: [] as number[] };
  for (let run = 0; run < runs; run++) {
    for (const side of run % 2
      ? (['plain', 'private'] as const)
      : (['private', 'plain'] as const)) {
      const { ms, value } = await timed(() => listNames(`${side}/`));
      if (value !== objectCount) throw new Error(`${side}: ${value} of ${objectCount} named`);
      times[side].push(ms);
    }
    console.log(
      `  (a) run ${run + 1}: private ${round(times.private.at(-1)!, 0)} ms, plain ${round(times.plain.at(-1)!, 0)} ms`,
    );
  }
  // The naming alone: every key of the private folder opened, in this process.
  const keys: ListedObject[] = [];
  for await (const page of listPages(s3, bucket, 'private/')) keys.push(...page);
  const names = await namesOf(s3, 'private/'); // an empty cache, as a new `veil ls` has
  const naming = await timed(() =>
    Promise.resolve(nameObjects(names, listingScope(names, 'private/'), keys)),
  );
  const a = {
    objects: objectCount,
    privateMs: round(median(times.private), 0),
    plainMs: round(median(times.plain), 0),
    ratio: round(median(times.private) / median(times.plain), 2),
    namingUsPerObject: round((naming.ms * 1000) / objectCount, 1),
  };
  console.log(
    `(a) listing ${objectCount} objects, medians of ${runs}: private ${a.privateMs} ms vs plain ` +
      `${a.plainMs} ms (${a.ratio}, target <= 1.5); naming alone ${a.namingUsPerObject} µs per object`,
  );

  // (b) the whole veil ls, headers included.
  let b: object | undefined;
  if (fullRuns > 0) {
    const full = { private: [] as number[], plain: [] as number[] };
    for (let run = 0; run < fullRuns; run++) {
      for (const side of ['private', 'plain'] as const) {
        const { ms, value } = await timed(() =>
          listObjects({
            s3: flags,
            keys: { keyFiles: [keyFile], hsmKeys: [], kmsKeys: [] },
            location: { bucket, key: `${side}/` },
            print: () => undefined,
          }),
        );
        if (value !== objectCount) throw new Error(`${side}: ${value} of ${objectCount} listed`);
        full[side].push(ms);
      }
    }
    b = {
      privateMs: round(median(full.private), 0),
      plainMs: round(median(full.plain), 0),
      ratio: round(median(full.private) / median(full.plain), 2),
    };
    console.log(`(b) whole veil ls with headers, medians of ${fullRuns}: ${JSON.stringify(b)}`);
  } else {
    console.log('(b) skipped (VEIL_BENCH_FULL_RUNS=0)');
  }
  console.log(`load average at end: ${load()}`);
  console.log(JSON.stringify({ a, b }));
} finally {
  s3.destroy();
  await moto.stop();
  await rm(dir, { recursive: true, force: true });
}
