/**
 * The `veil` command line under hostile input and interruption: a crafted header is refused
 * quickly by `inspect`, and Ctrl-C (SIGINT) or SIGTERM during a decryption leaves neither OUT nor
 * a temporary file, with exit 130 / 143.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { concatBytes, u16 } from '../../../src/core/bytes';

// Each test spawns the CLI (Node + tsx) several times: seconds each on a loaded machine.
vi.setConfig({ testTimeout: 120_000 });

const BIN = fileURLToPath(new URL('../../../bin/veil.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'veil-cli-robust-'));
const path = (name: string): string => join(dir, name);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function veil(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: dir, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, signal: null, stdout, stderr });
      },
    );
  });
}

const temporaryFiles = (): string[] => readdirSync(dir).filter((name) => name.includes('.tmp-'));

describe('veil inspect on a crafted header', () => {
  it('refuses a header announcing 65535 large EDKs at once (TOO_MANY_EDKS)', async () => {
    // 65535 EDKs of three 65535-byte fields would be a 12 GiB header; 24 MiB of it is on disk.
    const field = concatBytes(u16(0xffff), new Uint8Array(0xffff).fill(0x61));
    const edk = concatBytes(field, field, field);
    const header = concatBytes(
      Uint8Array.of(0x02, 0x04, 0x78),
      new Uint8Array(32),
      u16(0),
      u16(0xffff),
    );
    const edkCount = Math.ceil((24 * 1024 * 1024) / edk.length);
    writeFileSync(
      path('crafted.enc'),
      concatBytes(header, ...Array<Uint8Array>(edkCount).fill(edk)),
    );
    const startedAt = Date.now();
    const run = await veil('inspect', 'crafted.enc');
    expect(Date.now() - startedAt).toBeLessThan(10_000);
    expect(run.code).toBe(1);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(run.stderr.startsWith('TOO_MANY_EDKS: ')).toBe(true);
    expect(run.stdout).toBe('');
  }, 30_000);

  it('prints a 3 MiB header with 16 large EDKs that arrives over several reads', async () => {
    const field = concatBytes(u16(0xffff), new Uint8Array(0xffff).fill(0x61));
    const edk = concatBytes(field, field, field);
    const header = concatBytes(
      Uint8Array.of(0x02, 0x04, 0x78),
      new Uint8Array(32),
      u16(0),
      u16(16),
      ...Array<Uint8Array>(16).fill(edk),
      Uint8Array.of(0x02, 0x00, 0x00, 0x10, 0x00), // framed, 4096-byte frames
      new Uint8Array(32 + 16), // commit key and header auth tag (not checked without a key)
    );
    writeFileSync(path('large-header.enc'), header);
    const run = await veil('inspect', 'large-header.enc');
    expect(run.code).toBe(0);
    const view = JSON.parse(run.stdout) as { encryptedDataKeys: unknown[]; headerBytes: number };
    expect(view.encryptedDataKeys).toHaveLength(16);
    expect(view.headerBytes).toBe(header.length);
    expect(header.length).toBeGreaterThan(3 * 1024 * 1024);
  }, 30_000);
});

describe('interrupting a decryption', () => {
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)(
    '%s: no OUT and no temporary file remain, exit %d',
    async (signal, exitCode) => {
      if (!readdirSync(dir).includes('big.enc')) {
        expect((await veil('keygen', 'big.jwk')).code).toBe(0);
        writeFileSync(path('big.bin'), '');
        truncateSync(path('big.bin'), 48 * 1024 * 1024); // sparse: quick to make
        // Small frames make the decryption slow enough (about a second) to interrupt reliably.
        const encrypted = await veil(
          'encrypt',
          '--key-file',
          'big.jwk',
          '--frame-bytes',
          '4096',
          'big.bin',
          'big.enc',
        );
        expect(encrypted).toMatchObject({ code: 0, stderr: '' });
        rmSync(path('big.bin'));
      }
      const child = spawn(
        process.execPath,
        [BIN, 'decrypt', '--key-file', 'big.jwk', 'big.enc', 'big.out'],
        {
          cwd: dir,
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<Run>((resolve) =>
        child.on('exit', (code, exitSignal) =>
          resolve({ code, signal: exitSignal, stdout: '', stderr }),
        ),
      );
      let signalled = false;
      const poll = setInterval(() => {
        if (!signalled && temporaryFiles().length > 0) {
          signalled = true;
          child.kill(signal);
        }
      }, 2);
      const run = await exited;
      clearInterval(poll);
      expect(signalled).toBe(true);
      expect(run.code).toBe(exitCode);
      await new Promise((resolve) => setImmediate(resolve));
      expect(stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(stderr.startsWith('INTERRUPTED: ')).toBe(true);
      expect(temporaryFiles()).toEqual([]);
      expect(readdirSync(dir)).not.toContain('big.out');
    },
    60_000,
  );
});
