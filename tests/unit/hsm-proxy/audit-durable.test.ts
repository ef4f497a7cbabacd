/**
 * Issue 16, point 6 (audit): no data key leaves the proxy before its audit line is on disk, and
 * the log is a hash chain that `npm run audit:verify` checks. Before this, with the log on a full
 * disk, the first request got a data key that was never audited.
 */
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { openAuditLog } from '../../../server/hsm-proxy/src/audit';
import { GENESIS, lineHash, verifyAuditLog } from '../../../server/hsm-proxy/src/audit-chain';
import type { Identity } from '../../../server/hsm-proxy/src/auth';
import { verifyAuditCommand } from '../../../server/hsm-proxy/src/verify-audit';
import { startFakeProxy, type FakeProxy } from './fake-proxy';

const identities: Record<string, Identity> = {
  alice: { sub: 'sub-alice', username: 'alice', groups: ['users'] },
};
const policy = { groups: { users: ['k'] }, labels: {} };

let proxy: FakeProxy | undefined;
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
});

const tempLog = (): string => join(mkdtempSync(join(tmpdir(), 'veil-audit-')), 'audit.log');

const record = (requestId: string) => ({
  requestId,
  client: '127.0.0.1',
  identity: null,
  operation: 'list-keys' as const,
  label: null,
  binding: null,
  wrappedSha256: null,
  aadSha256: null,
  result: 'ok',
});

/** A log of `count` chained lines, written by the proxy's own writer. */
async function writtenLog(count: number): Promise<string> {
  const path = tempLog();
  const log = await openAuditLog(path);
  await Promise.all(Array.from({ length: count }, (_, i) => log.append(record(`r${i}`))));
  await log.close();
  return path;
}

describe('an audit log that cannot be written', () => {
  test('fails the request with 500 AUDIT_FAILED and returns no data key; later key use is suspended', async () => {
    proxy = await startFakeProxy({ identities, policy, auditPath: '/dev/full' });
    const first = await proxy.post('/v1/data-keys', 'alice', { keyLabel: 'k', aad: '' });
    expect(first).toMatchObject({ status: 500, body: { error: 'AUDIT_FAILED' } });
    expect(first.body).not.toHaveProperty('plaintext');
    expect(first.body).not.toHaveProperty('wrapped');
    const next = await proxy.post('/v1/data-keys', 'alice', { keyLabel: 'k', aad: '' });
    expect(next).toMatchObject({ status: 503, body: { error: 'AUDIT_UNAVAILABLE' } });
    expect((await proxy.get('/v1/health')).status).toBe(503);
  });

  test('a directory is refused at start, not at the first request', async () => {
    await expect(openAuditLog(mkdtempSync(join(tmpdir(), 'veil-audit-dir-')))).rejects.toThrow();
  });

  test('a log that ends in an incomplete line is refused at start, with what to do', async () => {
    const path = await writtenLog(2);
    appendFileSync(path, '{"cut":');
    await expect(openAuditLog(path)).rejects.toThrow(/incomplete line.*audit:verify/);
  });
});

describe('the hash chain', () => {
  test('each line chains from the one before; the first from GENESIS; a reopened log chains on', async () => {
    const path = await writtenLog(3);
    const again = await openAuditLog(path);
    await again.append(record('after-restart'));
    await again.close();
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    const prevs = lines.map((line) => (JSON.parse(line) as { prev: string }).prev);
    expect(prevs[0]).toBe(GENESIS);
    for (let i = 1; i < lines.length; i++) expect(prevs[i]).toBe(lineHash(lines[i - 1] ?? ''));
    expect(verifyAuditLog(readFileSync(path, 'utf8'))).toMatchObject({ ok: true, lines: 4 });
  });

  test('a log begun by an earlier proxy (lines without "prev") verifies, its old lines counted', () => {
    const old = '{"time":"t","requestId":"a","result":"ok"}\n';
    const next = `${JSON.stringify({ requestId: 'b', prev: lineHash(old.trimEnd()) })}\n`;
    expect(verifyAuditLog(old + next)).toMatchObject({ ok: true, lines: 2, unchained: 1 });
  });

  const edits: [string, (lines: string[]) => string[], number][] = [
    ['a field edited', (l) => l.map((x, i) => (i === 2 ? x.replace('"ok"', '"no"') : x)), 4],
    ['a line deleted', (l) => l.filter((_, i) => i !== 2), 3],
    ['two lines swapped', (l) => [l[0], l[2], l[1], ...l.slice(3)] as string[], 2],
    ['the first line deleted', (l) => l.slice(1), 1],
    ['a line inserted', (l) => [l[0], l[1], l[1], ...l.slice(2)] as string[], 3],
    ['a line that is not JSON', (l) => l.map((x, i) => (i === 3 ? x.slice(1) : x)), 4],
  ];
  test.each(edits)('%s is detected at the first line it breaks', async (_, edit, brokenLine) => {
    const path = await writtenLog(5);
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    writeFileSync(path, `${edit(lines).join('\n')}\n`);
    expect(verifyAuditLog(readFileSync(path, 'utf8'))).toMatchObject({
      ok: false,
      line: brokenLine,
    });
    const errors: string[] = [];
    expect(
      await verifyAuditCommand(
        [path],
        () => undefined,
        (line) => errors.push(line),
      ),
    ).toBe(1);
    expect(errors.join('\n')).toContain(`line ${brokenLine} `);
  });

  test('the verify command reports an intact log and its last hash, and exits 2 without a file', async () => {
    const path = await writtenLog(3);
    const out: string[] = [];
    expect(await verifyAuditCommand([path], (line) => out.push(line))).toBe(0);
    const last = readFileSync(path, 'utf8').trimEnd().split('\n').at(-1) ?? '';
    expect(out.join('\n')).toContain(`3 lines, chain intact; last hash ${lineHash(last)}`);
    expect(
      await verifyAuditCommand(
        [],
        () => undefined,
        () => undefined,
      ),
    ).toBe(2);
    expect(
      await verifyAuditCommand(
        [join(path, 'missing')],
        () => undefined,
        () => undefined,
      ),
    ).toBe(2);
  });

  test('lines written by concurrent requests keep one unbroken chain', async () => {
    proxy = await startFakeProxy({ identities, policy });
    const p = proxy;
    const replies = await Promise.all(
      Array.from({ length: 50 }, () =>
        p.post('/v1/data-keys', 'alice', { keyLabel: 'k', aad: '' }),
      ),
    );
    expect(replies.every((reply) => reply.status === 200)).toBe(true);
    expect(verifyAuditLog(readFileSync(p.auditPath, 'utf8'))).toMatchObject({
      ok: true,
      lines: 50,
    });
  });
});
