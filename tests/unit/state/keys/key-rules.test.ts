import { describe, expect, test, vi } from 'vitest';
import { VeilError } from '../../../../src/core/errors';
import type { KmsApi } from '../../../../src/keyrings/kms-api';
import {
  backupFileName,
  checkKeyName,
  copiesLabel,
  copyMaterial,
  deleteWarning,
  generateKeyMaterial,
  isLastCopy,
  keyFileName,
  suggestKeyName,
} from '../../../../src/state/keys/key-rules';
import { hsmKeyLabels, kmsAliasesWithState } from '../../../../src/state/keys/remote-keys';
import { saveTextFile, type SaveEnvironment } from '../../../../src/state/keys/saved-copies';

const none = { keyFile: false, backup: false };

describe('key names', () => {
  test('valid names are trimmed; bad or taken names are KEY_NAME_INVALID', () => {
    expect(checkKeyName('  team-key.v2_1 ', [])).toBe('team-key.v2_1');
    for (const bad of ['', '   ', '-dash-first', 'has space', 'ü', 'a/b', 'x'.repeat(65)]) {
      expect(() => checkKeyName(bad, []), bad).toThrow(VeilError);
    }
    expect(() => checkKeyName('team', ['team'])).toThrow(/already used/);
    expect(checkKeyName('x'.repeat(64), [])).toHaveLength(64);
  });

  test('a suggested name is free', () => {
    const now = new Date('2026-03-04T10:00:00Z');
    expect(suggestKeyName([], now)).toBe('key-2026-03-04');
    expect(suggestKeyName(['key-2026-03-04', 'key-2026-03-04-2'], now)).toBe('key-2026-03-04-3');
  });
});

describe('new key material', () => {
  test('32 random bytes in the veil namespace; a copy is independent', () => {
    const a = generateKeyMaterial('k');
    const b = generateKeyMaterial('k');
    expect(a.keyBytes).toHaveLength(32);
    expect(a.keyNamespace).toBe('veil');
    expect(a.keyBytes).not.toEqual(b.keyBytes);
    const copy = copyMaterial(a);
    copy.keyBytes.fill(0);
    expect(a.keyBytes.some((x) => x !== 0)).toBe(true);
  });

  test('file names', () => {
    expect(keyFileName('team')).toBe('team.jwk');
    expect(backupFileName('team')).toBe('team.backup.jwe');
  });
});

describe('copies', () => {
  test('the last copy is the one without key file or backup, and the warning says so', () => {
    expect(isLastCopy({ copies: none })).toBe(true);
    expect(isLastCopy({ copies: { keyFile: true, backup: false } })).toBe(false);
    expect(deleteWarning({ keyName: 'k', copies: none })).toMatch(/becomes unreadable/);
    expect(deleteWarning({ keyName: 'k', copies: { keyFile: false, backup: true } })).toMatch(
      /stay readable/,
    );
    expect(copiesLabel({ copies: none, sessionOnly: false })).toMatch(/^Only in this browser/);
    expect(copiesLabel({ copies: { keyFile: true, backup: true }, sessionOnly: true })).toBe(
      'In this page only (not kept after reload), and saved as key file and backup',
    );
  });
});

function fakeEnv(picker?: SaveEnvironment['window']['showSaveFilePicker']) {
  const clicked: { href: string; download: string }[] = [];
  const link = {
    href: '',
    download: '',
    rel: '',
    click() {
      clicked.push({ href: this.href, download: this.download });
    },
    remove: vi.fn(),
  };
  const env = {
    window: picker ? { showSaveFilePicker: picker } : {},
    document: { createElement: () => link, body: { append: vi.fn() } },
    url: { createObjectURL: () => 'blob:x', revokeObjectURL: vi.fn() },
  } as unknown as SaveEnvironment;
  return { env, clicked };
}

const request = {
  suggestedName: 'k.jwk',
  text: '{"kty":"oct"}',
  mimeType: 'application/jwk+json',
  description: 'key',
  extension: '.jwk',
};

describe('saving a file', () => {
  test('through the save picker when the browser has one', async () => {
    const written: string[] = [];
    const close = vi.fn(() => Promise.resolve());
    const picker = vi.fn(() =>
      Promise.resolve({
        createWritable: () =>
          Promise.resolve({
            write: async (blob: Blob) => void written.push(await blob.text()),
            close,
          }),
      }),
    );
    const { env, clicked } = fakeEnv(picker);
    expect(await saveTextFile(request, env)).toBe('saved');
    expect(written).toEqual([request.text]);
    expect(close).toHaveBeenCalled();
    expect(clicked).toEqual([]);
    expect(picker).toHaveBeenCalledWith(
      expect.objectContaining({ suggestedName: 'k.jwk' }) as unknown,
    );
  });

  test('a cancelled picker is "cancelled"; a failed write is KEY_SAVE_FAILED and aborts', async () => {
    const cancel = () => Promise.reject(new DOMException('user said no', 'AbortError'));
    expect(await saveTextFile(request, fakeEnv(cancel).env)).toBe('cancelled');
    const abort = vi.fn(() => Promise.resolve());
    const failing = () =>
      Promise.resolve({
        createWritable: () =>
          Promise.resolve({
            write: () => Promise.reject(new DOMException('full', 'QuotaExceededError')),
            close: () => Promise.resolve(),
            abort,
          }),
      });
    await expect(saveTextFile(request, fakeEnv(failing).env)).rejects.toMatchObject({
      code: 'KEY_SAVE_FAILED',
    });
    expect(abort).toHaveBeenCalled();
  });

  test('without a picker, a Blob link download with the file name: "downloaded", not "saved"', async () => {
    const { env, clicked } = fakeEnv();
    // The page cannot see whether the download was kept, so it must not claim the file is saved.
    expect(await saveTextFile(request, env)).toBe('downloaded');
    expect(clicked).toEqual([{ href: 'blob:x', download: 'k.jwk' }]);
  });
});

function fakeKms(
  aliases: { AliasName: string; TargetKeyId: string }[],
  states: Record<string, string | Error>,
): KmsApi {
  return {
    region: 'us-east-1',
    listAliases: () =>
      Promise.resolve({
        Aliases: aliases.map((a) => ({
          ...a,
          AliasArn: `arn:aws:kms:us-east-1:111122223333:${a.AliasName}`,
        })),
      }),
    describeKey: ({ KeyId }: { KeyId: string }) => {
      const state = states[KeyId];
      if (state instanceof Error) return Promise.reject(state);
      return Promise.resolve({
        KeyMetadata: {
          KeyId: 'k1',
          Arn: 'arn:aws:kms:us-east-1:111122223333:key/k1',
          KeyState: state ?? 'Enabled',
        },
      });
    },
  } as unknown as KmsApi;
}

describe('keys of Models B and C', () => {
  test('KMS aliases come with their state; one failing DescribeKey marks only its row', async () => {
    const denied = Object.assign(new Error(''), { name: 'AccessDeniedException' });
    const api = fakeKms(
      [
        { AliasName: 'alias/b-off', TargetKeyId: 'k2' },
        { AliasName: 'alias/a-on', TargetKeyId: 'k1' },
        { AliasName: 'alias/aws/s3', TargetKeyId: 'k9' },
        { AliasName: 'alias/c-denied', TargetKeyId: 'k3' },
      ],
      { 'alias/b-off': 'Disabled', 'alias/c-denied': denied },
    );
    const { rows, more } = await kmsAliasesWithState(api);
    expect(more).toBe(0);
    expect(rows.map((r) => [r.aliasName, r.state, r.problem?.code])).toEqual([
      ['alias/a-on', 'Enabled', undefined],
      ['alias/b-off', 'Disabled', 'KMS_KEY_DISABLED'],
      ['alias/c-denied', undefined, 'KMS_ACCESS_DENIED'],
    ]);
  });

  test('ListAliases denied: only the configured keys, described, and the list says why', async () => {
    const denied = () => Object.assign(new Error(''), { name: 'AccessDeniedException' });
    const api = {
      ...fakeKms([], {}),
      listAliases: () => Promise.reject(denied()),
    } as unknown as KmsApi;
    const list = await kmsAliasesWithState(api, ['alias/veil', undefined, 'alias/veil']);
    expect(list.listDenied).toBe(true);
    expect(list.more).toBe(0);
    expect(list.rows).toEqual([
      { aliasName: 'alias/veil', targetKeyId: 'k1', state: 'Enabled', problem: undefined },
    ]);
    // Without a configured key there is nothing to show: the denial is the answer.
    await expect(kmsAliasesWithState(api)).rejects.toMatchObject({ code: 'KMS_ACCESS_DENIED' });
    // Other failures stay failures.
    const down = {
      ...fakeKms([], {}),
      listAliases: () => Promise.reject(new TypeError('Failed to fetch')),
    } as unknown as KmsApi;
    await expect(kmsAliasesWithState(down, ['alias/veil'])).rejects.toBeInstanceOf(VeilError);
    // A listed region says so.
    expect((await kmsAliasesWithState(fakeKms([], {}), ['alias/veil'])).listDenied).toBe(false);
  });

  test('HSM labels need an HSM proxy and a user sign-in, then come from GET /v1/keys', async () => {
    const config = { hsm: { proxyUrl: 'http://127.0.0.1:9', keyLabel: 'veil-wrap-1' } };
    const signedOut = { hasIdToken: false, idToken: () => Promise.reject(new Error('no')) };
    await expect(hsmKeyLabels({}, signedOut)).rejects.toMatchObject({
      code: 'MODEL_NOT_CONFIGURED',
    });
    await expect(hsmKeyLabels(config, signedOut)).rejects.toMatchObject({
      code: 'HSM_UNAUTHENTICATED',
    });
    const calls: { url: string; auth: string | null }[] = [];
    const fetcher = (url: string | URL | Request, init?: RequestInit) => {
      calls.push({
        url: url instanceof Request ? url.url : url.toString(),
        auth: new Headers(init?.headers).get('authorization'),
      });
      return Promise.resolve(
        new Response(JSON.stringify({ keys: [{ label: 'z-key' }, { label: 'veil-wrap-1' }] })),
      );
    };
    const labels = await hsmKeyLabels(
      config,
      { hasIdToken: true, idToken: () => Promise.resolve('tok') },
      fetcher,
    );
    expect(labels).toEqual(['veil-wrap-1', 'z-key']);
    expect(calls).toEqual([{ url: 'http://127.0.0.1:9/v1/keys', auth: 'Bearer tok' }]);
  });
});
