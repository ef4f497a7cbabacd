/**
 * The tamper matrix through the command line: `veil encrypt` writes a real object (the app's
 * 512 KiB frames), each tampered copy is decrypted to a file, and every case must fail with an
 * expected code (see [Note: expected codes of the tamper matrix]) and leave neither OUT nor a
 * temporary OUT.tmp-* behind, so no plaintext, authenticated or not, stays on disk.
 *
 * The representative matrix runs in process through decryptFile (the code `veil decrypt` runs);
 * the first case of every category also runs as users run it, the binary spawned, which must
 * exit 1 with one stderr line starting with the code.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { VeilError } from '../../../src/core/errors';
import { decryptFile } from '../../../src/cli/transcode';
import { patternBytes } from '../../unit/core/helpers';
import {
  Tally,
  contextCases,
  dissect,
  representativeCases,
  type Dissected,
  type TamperCase,
} from '../tamper-matrix';
import { readFile } from 'node:fs/promises';

const BIN = fileURLToPath(new URL('../../../bin/veil.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'veil-proof-cli-'));
const path = (name: string): string => join(dir, name);
const PLAINTEXT_BYTES = 2 * 512 * 1024 + 1000;

interface Run {
  readonly exitCode: number;
  readonly stderr: string;
}

function veil(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: dir }, (error, _stdout, stderr) => {
      resolve({ exitCode: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stderr });
    });
  });
}

/** Files in the folder other than the inputs: decrypt outputs and temporary files. */
const leftovers = (): string[] =>
  readdirSync(dir).filter((name) => name.startsWith('out') || name.includes('.tmp-'));

let message: Dissected;
let cases: TamperCase[];
const inProcess = new Tally();
const spawned = new Tally();
/** The first case of the in-process run that failed with each code. */
const firstCaseByCode = new Map<string, TamperCase>();

interface SpawnJob {
  readonly name: string;
  readonly file: string;
  readonly args: string[];
  readonly expected: readonly string[];
  readonly category: string;
}

// The setup and each case spawn the CLI (Node + tsx): seconds each on a loaded machine.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

beforeAll(async () => {
  writeFileSync(path('plain.bin'), patternBytes(PLAINTEXT_BYTES, 31));
  expect((await veil('keygen', 'key.jwk', '--kid', 'proof-key')).exitCode).toBe(0);
  expect((await veil('keygen', 'other.jwk', '--kid', 'proof-key')).exitCode).toBe(0);
  expect((await veil('keygen', 'stranger.jwk', '--kid', 'stranger')).exitCode).toBe(0);
  const encrypted = await veil(
    'encrypt',
    '--key-file',
    'key.jwk',
    '--context',
    'veil-app=veil',
    '--context',
    'purpose=proof',
    'plain.bin',
    'object.veil',
  );
  expect(encrypted.exitCode).toBe(0);
  message = dissect(new Uint8Array(await readFile(path('object.veil'))));
  cases = [...representativeCases(message), ...contextCases(message)];
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  console.log(
    `[proof] tamper matrix, command line: ${inProcess.detected} of ${inProcess.tried} in process, ${spawned.detected} of ${spawned.tried} spawned\n${inProcess.format('veil decrypt (decryptFile)')}\n${spawned.format('veil decrypt (spawned)')}`,
  );
});

describe('veil decrypt on tampered files', () => {
  it('starts from an object that decrypts byte for byte, with 3 frames of 512 KiB', async () => {
    expect(message.frames).toHaveLength(3);
    expect(message.frameBytes).toBe(512 * 1024);
    expect(
      (await veil('decrypt', '--key-file', 'key.jwk', 'object.veil', 'out-good')).exitCode,
    ).toBe(0);
    const out = await readFile(path('out-good'));
    expect(out.equals(Buffer.from(patternBytes(PLAINTEXT_BYTES, 31)))).toBe(true);
    rmSync(path('out-good'));
  });

  it('refuses every case of the representative matrix and leaves no output or temporary file', async () => {
    const misses: string[] = [];
    for (const [index, tamper] of cases.entries()) {
      writeFileSync(path('tampered.veil'), tamper.bytes);
      let code: string | undefined;
      try {
        await decryptFile({
          keys: { keyFiles: [path('key.jwk')], hsmKeys: [], kmsKeys: [] },
          force: false,
          inPath: path('tampered.veil'),
          outPath: path(`out-${index}`),
        });
      } catch (error) {
        code = error instanceof VeilError ? error.code : 'NOT_A_VEIL_ERROR';
      }
      if (code !== undefined && !firstCaseByCode.has(code)) firstCaseByCode.set(code, tamper);
      const left = leftovers();
      if (!inProcess.add(tamper.category, code, tamper.expected) || left.length > 0) {
        misses.push(
          `${tamper.category} ${tamper.name}: ${code ?? 'accepted'}, left ${left.join(' ')}`,
        );
      }
      for (const name of left) rmSync(path(name), { force: true });
    }
    expect(misses).toEqual([]);
    expect(inProcess.tried).toBe(cases.length);
  });

  it('as a spawned binary, one case per code: exit 1, one line starting with it, nothing left', async () => {
    // One case for each code the in-process run produced (spawning costs about a second).
    const jobs: SpawnJob[] = [];
    for (const [code, tamper] of firstCaseByCode) {
      const file = `case-${code}.veil`;
      writeFileSync(path(file), tamper.bytes);
      jobs.push({
        name: `${tamper.category} ${tamper.name}`,
        file,
        args: ['--key-file', 'key.jwk'],
        expected: [code],
        category: tamper.category,
      });
    }
    for (const [keyFile, expected] of [
      ['other.jwk', 'WRONG_KEY'],
      ['stranger.jwk', 'NO_MATCHING_EDK'],
    ] as const) {
      jobs.push({
        name: keyFile,
        file: 'object.veil',
        args: ['--key-file', keyFile],
        expected: [expected],
        category: 'wrong key',
      });
    }
    const misses: string[] = [];
    // Two at a time: the machine has two cores.
    for (let at = 0; at < jobs.length; at += 2) {
      const batch = jobs.slice(at, at + 2);
      const runs = await Promise.all(
        batch.map((job, offset) =>
          veil('decrypt', ...job.args, job.file, `out-spawned-${at + offset}`),
        ),
      );
      for (const [offset, run] of runs.entries()) {
        const job = batch[offset]!;
        const lines = run.stderr.trimEnd().split('\n');
        const code = /^([A-Z_]+): /.exec(lines[0] ?? '')?.[1];
        const wellFormed = run.exitCode === 1 && lines.length === 1;
        if (!spawned.add(job.category, wellFormed ? code : `exit ${run.exitCode}`, job.expected)) {
          misses.push(`${job.name}: exit ${run.exitCode}, ${run.stderr.trim()}`);
        }
      }
      const left = leftovers();
      if (left.length > 0) misses.push(`left behind: ${left.join(' ')}`);
    }
    expect(misses).toEqual([]);
    expect(spawned.tried).toBeGreaterThanOrEqual(12);
  }, 120_000); // about a second per spawn, more when the machine is busy
});
