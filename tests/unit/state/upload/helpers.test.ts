import { describe, expect, test } from 'vitest';
import { VeilError } from '../../../../src/core/errors';
import { createMessageHeader } from '../../../../src/core/message';
import { RawAesKeyring } from '../../../../src/keyrings/raw-aes';
import type { UploadRecord } from '../../../../src/transfer/upload-store';
import {
  atRestOf,
  engineOptionsOf,
  protectionLabel,
  protectionOf,
  sseOf,
} from '../../../../src/state/upload/choice';
import { fixFor, rowError, s3Error } from '../../../../src/state/upload/errors';
import {
  formatEta,
  sentPlaintextBytes,
  summarize,
  summaryLine,
} from '../../../../src/state/upload/format';
import {
  freeKey,
  MAX_NUMBERED_NAMES,
  numberedKey,
  parseFolder,
} from '../../../../src/state/upload/names';
import { recordKeys, resumeBlock, summarizeRecord } from '../../../../src/state/upload/records';
import { eachLimited, phaseOf } from '../../../../src/state/upload/rows';
import { protectionStatement } from '../../../../src/state/shared/protection';

describe('numbered names for "keep both"', () => {
  test.each([
    ['a.txt', 'a (1).txt'],
    ['docs/report.final.pdf', 'docs/report.final (1).pdf'],
    ['docs/.env', 'docs/.env (1)'],
    ['README', 'README (1)'],
    ['backup/site.tar.gz', 'backup/site (1).tar.gz'],
    ['a.b/c', 'a.b/c (1)'],
  ])('%s becomes %s', (key, expected) => {
    expect(numberedKey(key, 1)).toBe(expected);
  });

  test('freeKey takes the first number nobody uses', async () => {
    const taken = new Set(['x/a (1).txt', 'x/a (2).txt']);
    const asked: string[] = [];
    const key = await freeKey('x/a.txt', (candidate) => {
      asked.push(candidate);
      return Promise.resolve(taken.has(candidate));
    });
    expect(key).toBe('x/a (3).txt');
    expect(asked).toEqual(['x/a (1).txt', 'x/a (2).txt', 'x/a (3).txt']);
  });

  test('freeKey gives up after MAX_NUMBERED_NAMES names', async () => {
    let calls = 0;
    await expect(
      freeKey('a.txt', () => {
        calls += 1;
        return Promise.resolve(true);
      }),
    ).rejects.toThrow(/no free name/);
    expect(calls).toBe(MAX_NUMBERED_NAMES);
  });
});

describe('destination folder', () => {
  test.each([
    ['', ''],
    ['  ', ''],
    ['/photos/', 'photos'],
    ['a//b/ c /', 'a/b/c'],
  ])('%j is cleaned to %j', (text, folder) => {
    expect(parseFolder(text)).toEqual({ ok: true, folder });
  });

  test.each(['..', 'a/../b', './a', 'a\u0000b', 'a\nb'])('%j is refused', (text) => {
    expect(parseFolder(text)).toEqual({ ok: false });
  });
});

describe('figures', () => {
  // Sizes and rates: humanBytes / humanRate in tests/unit/state/files/format.test.ts.
  test('times left', () => {
    expect(formatEta(undefined)).toBe('–');
    expect(formatEta(0)).toBe('0:00');
    expect(formatEta(6.2)).toBe('0:07');
    expect(formatEta(754)).toBe('12:34');
    expect(formatEta(3723)).toBe('1:02:03');
  });

  test('the summary counts done, failed and waiting files and leaves cancelled ones out', () => {
    const summary = summarize([
      { phase: 'done', sizeBytes: 1000, sentBytes: 0 },
      { phase: 'active', sizeBytes: 4000, sentBytes: 1000 },
      { phase: 'failed', sizeBytes: 500, sentBytes: 200 },
      { phase: 'queued', sizeBytes: 500, sentBytes: 0 },
      { phase: 'conflict', sizeBytes: 500, sentBytes: 0 },
      { phase: 'cancelled', sizeBytes: 9999, sentBytes: 9999 },
    ]);
    expect(summary).toEqual({
      files: 5,
      done: 1,
      failed: 1,
      waiting: 2,
      active: 1,
      cancelled: 1,
      totalBytes: 6500,
      sentBytes: 2200,
    });
    expect(summaryLine(summary)).toBe(
      '1 of 5 files uploaded · 2.1 KiB of 6.3 KiB · 1 failed · 2 waiting · 1 cancelled',
    );
    expect(summaryLine(summarize([]))).toBe('No uploads yet.');
  });

  test('a queue of cancelled rows only never says "No uploads yet."', () => {
    const line = summaryLine(summarize([{ phase: 'cancelled', sizeBytes: 10, sentBytes: 3 }]));
    expect(line).toBe('1 cancelled; nothing uploaded.');
    expect(line).not.toContain('No uploads yet');
  });

  test('uploaded object bytes stand for the same share of the file', () => {
    expect(sentPlaintextBytes(0, 0, 0)).toBe(0);
    expect(sentPlaintextBytes(500, 1000, 900)).toBe(450);
    expect(sentPlaintextBytes(1000, 1000, 900)).toBe(900);
  });
});

describe('the protection choice', () => {
  test('a model with an SSE layer encrypts client-side and asks for SSE at rest', () => {
    const protection = protectionOf({ mode: 'C', sse: 'SSE-KMS' }, 'alias/veil');
    expect(protection).toEqual({
      kind: 'client-side',
      model: 'C',
      atRest: { type: 'SSE-KMS', kmsKeyId: 'alias/veil' },
    });
    expect(engineOptionsOf(protection)).toEqual({
      protection: 'client-side',
      model: 'C',
      atRest: { type: 'SSE-KMS', kmsKeyId: 'alias/veil' },
    });
    expect(protectionLabel(protection)).toBe('Model C + SSE-KMS');
  });

  test('a model alone has no SSE layer', () => {
    const protection = protectionOf({ mode: 'A', sse: 'none' });
    expect(engineOptionsOf(protection)).toEqual({ protection: 'client-side', model: 'A' });
    expect(protectionStatement(protection)).toMatch(/only ciphertext/);
  });

  test('S3 only is the engine’s plain mode, labelled not zero knowledge', () => {
    const sse = protectionOf({ mode: 'S3-ONLY', sse: 'SSE-S3' });
    expect(engineOptionsOf(sse)).toEqual({ protection: 'none', atRest: { type: 'SSE-S3' } });
    expect(protectionLabel(sse)).toBe('SSE-S3 only');
    expect(protectionStatement(sse)).toMatch(/not zero knowledge/);
    const none = protectionOf({ mode: 'S3-ONLY', sse: 'none' });
    expect(engineOptionsOf(none)).toEqual({ protection: 'none' });
    expect(protectionLabel(none)).toBe('Not encrypted');
    expect(protectionStatement(none)).toMatch(/not zero knowledge/);
  });

  test('SSE choices round-trip through the stored preference', () => {
    expect(atRestOf('none', 'k')).toBeUndefined();
    expect(atRestOf('SSE-KMS', undefined)).toEqual({ type: 'SSE-KMS' });
    expect(sseOf(atRestOf('SSE-S3', undefined))).toBe('SSE-S3');
    expect(sseOf(undefined)).toBe('none');
  });
});

describe('errors as Upload shows them', () => {
  test('credentials and sign-in errors point to Settings, a missing vault key to Keys', () => {
    expect(fixFor('CREDENTIALS_EXPIRED')).toBe('settings');
    expect(fixFor('HSM_UNAUTHENTICATED')).toBe('settings');
    expect(fixFor('VAULT_KEY_MISSING')).toBe('keys');
    expect(fixFor('UPLOAD_CORS_HEADERS')).toBeUndefined();
    expect(rowError(new VeilError('CREDENTIALS_MISSING'))).toMatchObject({
      code: 'CREDENTIALS_MISSING',
      fix: 'settings',
    });
  });

  test('S3 failures outside the engine are catalogued', () => {
    expect(s3Error(new TypeError('Failed to fetch')).code).toBe('S3_UNREACHABLE');
    const denied = Object.assign(new Error(''), { name: 'AccessDenied' });
    expect(s3Error(denied)).toMatchObject({ code: 'S3_REJECTED', detail: 'AccessDenied' });
    const expired = Object.assign(new Error(''), { name: 'ExpiredToken' });
    expect(s3Error(expired).code).toBe('CREDENTIALS_EXPIRED');
    const veil = new VeilError('RESUME_UPLOAD_GONE');
    expect(s3Error(veil)).toBe(veil);
  });
});

describe('unfinished upload records', () => {
  async function record(protection: 'client-side' | 'none'): Promise<UploadRecord> {
    const keyring = await RawAesKeyring.fromBytes({
      keyBytes: new Uint8Array(32).fill(3),
      keyName: 'team-key',
      keyNamespace: 'veil',
    });
    const header =
      protection === 'client-side'
        ? (await createMessageHeader({ keyring, frameBytes: 512 * 1024 })).headerBytes
        : new Uint8Array(0);
    return {
      id: 'up-1',
      bucket: 'b',
      key: 'photos/a.jpg',
      uploadId: 'up-1',
      protection,
      headerBytes: header,
      frameBytes: 512 * 1024,
      framesPerPart: 16,
      partCount: 4,
      file: { name: 'a.jpg', sizeBytes: 30_000_000, lastModifiedMs: 1, prefixSha256: '00' },
      parts: [
        { partNumber: 1, etag: '"e1"' },
        { partNumber: 2, etag: '"e2"' },
      ],
      createdAtMs: 1_700_000_000_000,
    };
  }

  test('the list shows file, progress by parts and the key read from the header', async () => {
    const summary = summarizeRecord(await record('client-side'));
    expect(summary).toMatchObject({
      id: 'up-1',
      fileName: 'a.jpg',
      objectKey: 'photos/a.jpg',
      sizeBytes: 30_000_000,
      partsDone: 2,
      partCount: 4,
      fraction: 0.5,
      encrypted: true,
      keys: [{ model: 'A', keyName: 'team-key' }],
    });
  });

  test('plain uploads and unreadable headers have no keys', async () => {
    expect(recordKeys(await record('none'))).toEqual([]);
    const broken = { ...(await record('client-side')), headerBytes: new Uint8Array([2, 4]) };
    expect(recordKeys(broken)).toEqual([]);
  });

  test('a resume needs credentials and one usable key', () => {
    const a = [{ model: 'A' as const, keyName: 'team-key' }];
    const b = [{ model: 'B' as const, keyName: 'veil-wrap-1' }];
    const have = { credentials: true, signedIn: false, vaultKeyNames: [] as string[] };
    expect(resumeBlock(a, { ...have, credentials: false })).toBe('credentials');
    expect(resumeBlock(a, have)).toBe('vault-key');
    expect(resumeBlock(a, { ...have, vaultKeyNames: ['team-key'] })).toBeUndefined();
    expect(resumeBlock(b, have)).toBe('sign-in');
    expect(resumeBlock(b, { ...have, signedIn: true })).toBeUndefined();
    expect(resumeBlock([{ model: 'C', keyName: 'arn' }], have)).toBeUndefined();
    expect(resumeBlock([], have)).toBeUndefined();
  });
});

describe('queue helpers', () => {
  test('engine states map to row phases', () => {
    expect(phaseOf('preparing')).toBe('active');
    expect(phaseOf('paused')).toBe('active');
    expect(phaseOf('completing')).toBe('active');
    expect(phaseOf('done')).toBe('done');
    expect(phaseOf('failed')).toBe('failed');
    expect(phaseOf('cancelled')).toBe('cancelled');
  });

  test('eachLimited runs every item with at most `limit` at once', async () => {
    let running = 0;
    let most = 0;
    const seen: number[] = [];
    await eachLimited([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      running += 1;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, 1));
      seen.push(n);
      running -= 1;
    });
    expect(seen.sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(most).toBe(3);
    await expect(eachLimited([], 3, () => Promise.reject(new Error('never')))).resolves.toBe(
      undefined,
    );
  });
});
