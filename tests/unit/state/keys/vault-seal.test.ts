/**
 * The vault envelope's cryptography (src/state/keys/vault-seal.ts): the passkey KEK derived from
 * known inputs (against Node's own HKDF and a frozen answer), the passphrase KEK, and the attacks:
 * a wrong passphrase or another passkey's PRF output does not open the vault key, and a sealed
 * entry that was altered, renamed, given another fingerprint or moved to another vault is refused.
 */
import { hkdfSync } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { VeilError } from '../../../../src/core/errors';
import { keyFingerprint } from '../../../../src/state/keys/vault-fingerprint';
import {
  openEntry,
  passkeyKek,
  passkeyKekBytes,
  passphraseKek,
  sealEntry,
  unwrapVaultKey,
  vaultKeyFromBytes,
  wrapVaultKey,
  type EntryBinding,
} from '../../../../src/state/keys/vault-seal';

const filled = (length: number, byte: number) => new Uint8Array(length).fill(byte);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

async function codeOf(run: () => Promise<unknown>): Promise<string | undefined> {
  const error = await run().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(VeilError);
  return (error as VeilError).code;
}

describe('the passkey KEK', () => {
  const prf = filled(32, 0x11);
  const salt = filled(32, 0x22);
  const credentialId = Uint8Array.from([1, 2, 3, 4]);

  test('is HKDF-SHA-256(PRF output, vault salt, "veil vault passkey v1" NUL || credential id)', async () => {
    const ours = await passkeyKekBytes(prf, salt, credentialId);
    const info = Buffer.concat([Buffer.from('veil vault passkey v1\0'), credentialId]);
    const node = new Uint8Array(hkdfSync('sha256', prf, salt, info, 32));
    expect(hex(ours)).toBe(hex(node));
    // Frozen, so a change of label or layout cannot pass silently on both sides.
    expect(hex(ours)).toBe(FROZEN_PASSKEY_KEK);
  });

  test('changes with each input', async () => {
    const base = hex(await passkeyKekBytes(prf, salt, credentialId));
    expect(hex(await passkeyKekBytes(filled(32, 0x12), salt, credentialId))).not.toBe(base);
    expect(hex(await passkeyKekBytes(prf, filled(32, 0x23), credentialId))).not.toBe(base);
    expect(hex(await passkeyKekBytes(prf, salt, Uint8Array.from([1, 2, 3, 5])))).not.toBe(base);
  });

  test('guards: a PRF output of another size, a short salt, no credential id', async () => {
    expect(await codeOf(() => passkeyKekBytes(filled(31, 1), salt, credentialId))).toBe(
      'OUT_OF_RANGE',
    );
    expect(await codeOf(() => passkeyKekBytes(prf, filled(8, 1), credentialId))).toBe(
      'OUT_OF_RANGE',
    );
    expect(await codeOf(() => passkeyKekBytes(prf, salt, new Uint8Array(0)))).toBe('BAD_ARGUMENT');
  });
});

const FROZEN_PASSKEY_KEK = '92b3c86eeb4bb5b51b17525cf14aa2f36cfc596849ed1cf4cd076e36d64cdd97';

describe('the vault key, wrapped per method', () => {
  const binding = { vaultId: 'v1', methodId: 'm1', kind: 'passkey' } as const;
  const vaultKey = filled(32, 0x5a);

  test('a passkey KEK opens what it wrapped; another passkey PRF output does not', async () => {
    const salt = filled(32, 9);
    const id = Uint8Array.from([7, 7]);
    const wrapped = await wrapVaultKey(
      await passkeyKek(filled(32, 1), salt, id),
      vaultKey,
      binding,
    );
    expect(hex(wrapped.ciphertext)).not.toContain(hex(vaultKey));
    const opened = await unwrapVaultKey(
      await passkeyKek(filled(32, 1), salt, id),
      wrapped,
      binding,
    );
    expect(hex(opened)).toBe(hex(vaultKey));
    const other = await passkeyKek(filled(32, 2), salt, id);
    expect(await codeOf(() => unwrapVaultKey(other, wrapped, binding))).toBe('VAULT_UNLOCK_FAILED');
  });

  test('a wrong passphrase does not open it, nor does the right one for another method id', async () => {
    const salt = filled(16, 3);
    const pb = { vaultId: 'v1', methodId: 'p1', kind: 'passphrase' } as const;
    const right = await passphraseKek('correct horse battery', salt, 1000);
    const wrapped = await wrapVaultKey(right, vaultKey, pb);
    expect(hex(await unwrapVaultKey(right, wrapped, pb))).toBe(hex(vaultKey));
    const wrong = await passphraseKek('correct horse battery!', salt, 1000);
    expect(await codeOf(() => unwrapVaultKey(wrong, wrapped, pb))).toBe('VAULT_UNLOCK_FAILED');
    expect(await codeOf(() => unwrapVaultKey(right, wrapped, { ...pb, methodId: 'p2' }))).toBe(
      'VAULT_UNLOCK_FAILED',
    );
  });

  test('the passphrase KEK guards its inputs', async () => {
    expect(await codeOf(() => passphraseKek('', filled(16, 1), 1000))).toBe('BAD_ARGUMENT');
    expect(await codeOf(() => passphraseKek('x', filled(8, 1), 1000))).toBe('OUT_OF_RANGE');
    expect(await codeOf(() => passphraseKek('x', filled(16, 1), 10))).toBe('OUT_OF_RANGE');
  });
});

describe('a sealed entry', () => {
  const keyBytes = Uint8Array.from({ length: 32 }, (_, i) => i);
  async function sealed() {
    const vaultKey = await vaultKeyFromBytes(filled(32, 0x42));
    const binding: EntryBinding = {
      vaultId: 'vault-1',
      keyName: 'team',
      keyNamespace: 'veil',
      fingerprint: await keyFingerprint(keyBytes.slice()),
    };
    return { vaultKey, binding, entry: await sealEntry(vaultKey, keyBytes, binding) };
  }

  test('opens to its bytes under its vault key and binding', async () => {
    const { vaultKey, binding, entry } = await sealed();
    expect(hex(entry.ciphertext)).not.toContain(hex(keyBytes));
    expect(hex(await openEntry(vaultKey, entry, binding))).toBe(hex(keyBytes));
  });

  test('attack: a flipped bit, another name, namespace, fingerprint or vault is refused', async () => {
    const { vaultKey, binding, entry } = await sealed();
    const flipped = entry.ciphertext.slice();
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    const cases = [
      () => openEntry(vaultKey, { ...entry, ciphertext: flipped }, binding),
      () => openEntry(vaultKey, entry, { ...binding, keyName: 'other' }),
      () => openEntry(vaultKey, entry, { ...binding, keyNamespace: 'aws' }),
      () => openEntry(vaultKey, entry, { ...binding, fingerprint: '0000 0000 0000 0000' }),
      () => openEntry(vaultKey, entry, { ...binding, vaultId: 'vault-2' }),
    ];
    for (const run of cases) expect(await codeOf(run)).toBe('VAULT_ENTRY_TAMPERED');
  });

  test('attack: another vault key does not open it', async () => {
    const { binding, entry } = await sealed();
    const other = await vaultKeyFromBytes(filled(32, 0x43));
    expect(await codeOf(() => openEntry(other, entry, binding))).toBe('VAULT_ENTRY_TAMPERED');
  });

  test('a binding field holding a NUL is refused (the encoding stays unambiguous)', async () => {
    const { vaultKey, binding } = await sealed();
    expect(await codeOf(() => sealEntry(vaultKey, keyBytes, { ...binding, keyName: 'a\0b' }))).toBe(
      'BAD_ARGUMENT',
    );
  });
});
