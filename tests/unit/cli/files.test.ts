/**
 * The command line's file plumbing, in process: atomic outputs are synced before they are named,
 * a no-overwrite output never replaces a file created meanwhile, keygen keeps no stray copy of
 * the key, and pending outputs are discarded on request (what SIGINT/SIGTERM do).
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import type * as NodeCrypto from 'node:crypto';
import * as fsPromises from 'node:fs/promises';
import type * as FsPromises from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

const events: string[] = [];
const control = { accessSaysMissing: false };
const randomBuffers: Uint8Array[] = [];

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof FsPromises>();
  return {
    ...actual,
    rename: async (...args: Parameters<typeof actual.rename>) => {
      events.push('rename');
      return actual.rename(...args);
    },
    link: async (...args: Parameters<typeof actual.link>) => {
      events.push('link');
      return actual.link(...args);
    },
    access: async (...args: Parameters<typeof actual.access>) => {
      // Simulates a key file created between keygen's existence check and its write.
      if (control.accessSaysMissing) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
      return actual.access(...args);
    },
  };
});

vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof NodeCrypto>();
  return {
    ...actual,
    randomBytes: (size: number) => {
      const buffer = actual.randomBytes(size);
      randomBuffers.push(buffer);
      return buffer;
    },
  };
});

const { discardPendingOutputs, writeAtomically } = await import('../../../src/cli/files');
const { writeNewKeyFile } = await import('../../../src/cli/key-files');
const { parseKeyFile } = await import('../../../src/core/key-file');

const dir = mkdtempSync(join(tmpdir(), 'veil-files-'));
const path = (name: string): string => join(dir, name);
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const temporaryFiles = (): string[] => readdirSync(dir).filter((name) => name.includes('.tmp-'));

let restoreSync: (() => void) | undefined;
beforeEach(async () => {
  events.length = 0;
  control.accessSaysMissing = false;
  const probe = await fsPromises.open(path('probe'), 'w');
  const prototype = Object.getPrototypeOf(probe) as { sync: () => Promise<void> };
  await probe.close();
  const realSync = prototype.sync;
  const spy = vi.spyOn(prototype, 'sync').mockImplementation(function (this: unknown) {
    events.push('sync');
    return realSync.call(this);
  });
  restoreSync = () => spy.mockRestore();
});
afterEach(() => restoreSync?.());

const writeText =
  (text: string) =>
  async (sink: WritableStream<Uint8Array>): Promise<void> => {
    const writer = sink.getWriter();
    await writer.write(new TextEncoder().encode(text));
    await writer.close();
  };

describe('writeAtomically', () => {
  it('syncs the file before renaming it, then syncs the directory', async () => {
    await writeAtomically(path('out.txt'), writeText('hello'));
    expect(readFileSync(path('out.txt'), 'utf8')).toBe('hello');
    expect(events).toEqual(['sync', 'rename', 'sync']);
    expect(temporaryFiles()).toEqual([]);
  });

  it('with noOverwrite, never replaces a file created while it was writing', async () => {
    await expect(
      writeAtomically(
        path('raced.txt'),
        async (sink) => {
          writeFileSync(path('raced.txt'), 'first');
          await writeText('second')(sink);
        },
        0o600,
        { noOverwrite: true },
      ),
    ).rejects.toMatchObject({ code: 'EEXIST' });
    expect(readFileSync(path('raced.txt'), 'utf8')).toBe('first');
    expect(temporaryFiles()).toEqual([]);
    await writeAtomically(path('fresh.txt'), writeText('new'), 0o600, { noOverwrite: true });
    expect(readFileSync(path('fresh.txt'), 'utf8')).toBe('new');
    expect(events).toContain('link');
    expect(temporaryFiles()).toEqual([]);
  });

  it('discardPendingOutputs stops the pipe and removes the temporary file', async () => {
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    let halfWritten = false;
    const writing = writeAtomically(path('stopped.txt'), async (sink) => {
      const writer = sink.getWriter();
      await writer.write(new TextEncoder().encode('partial plaintext'));
      halfWritten = true;
      await released;
      await writer.write(new TextEncoder().encode('more'));
      await writer.close();
    });
    await vi.waitFor(() => expect(halfWritten).toBe(true));
    expect(temporaryFiles()).toHaveLength(1);
    discardPendingOutputs(new Error('interrupted'));
    expect(temporaryFiles()).toEqual([]);
    release();
    await expect(writing).rejects.toThrow('interrupted');
    expect(existsSync(path('stopped.txt'))).toBe(false);
    expect(temporaryFiles()).toEqual([]);
  });
});

describe('writeNewKeyFile', () => {
  it('refuses to replace a key that appeared after its existence check', async () => {
    writeFileSync(path('taken.jwk'), 'the first key');
    control.accessSaysMissing = true;
    await expect(writeNewKeyFile(path('taken.jwk'), 'k', undefined)).rejects.toMatchObject({
      code: 'IO_FAILED',
    });
    expect(readFileSync(path('taken.jwk'), 'utf8')).toBe('the first key');
    expect(temporaryFiles()).toEqual([]);
  });

  it('draws the key without leaving a copy in a Node Buffer', async () => {
    randomBuffers.length = 0;
    await writeNewKeyFile(path('fresh.jwk'), 'k', undefined);
    const { keyBytes } = parseKeyFile(readFileSync(path('fresh.jwk'), 'utf8'));
    const hex = Buffer.from(keyBytes).toString('hex');
    for (const buffer of randomBuffers) {
      expect(Buffer.from(buffer).toString('hex')).not.toContain(hex.slice(0, 16));
    }
  });
});
