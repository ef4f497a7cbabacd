/**
 * Every vector set in ../shared/esdk/vectors (see its README): positive vectors decrypt to the
 * expected plaintext, the negative set is rejected, older non-committing suites are refused by
 * policy, and vectors that need AWS KMS are skipped and counted in the test names.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readU32 } from '../../../src/core/bytes';
import { parseHeaderBytes } from '../../../src/core/message';
import { decryptBytes } from '../../../src/core/one-shot';
import type { Keyring } from '../../../src/core/keyring';
import { VECTORS_DIR, expectCode, ourKeyring, staticKeyring, vectorKeyBytes } from './helpers';
import { rsaTestKeyring } from './vector-keyrings';

interface MasterKey {
  type: 'raw' | 'aws-kms';
  key: string;
  'provider-id'?: string;
  'encryption-algorithm'?: 'aes' | 'rsa';
  'padding-hash'?: string;
}
interface ManifestTest {
  ciphertext: string;
  'master-keys': MasterKey[];
  cmm?: string;
  'encryption-context': Record<string, string>;
  result: { output?: { plaintext: string }; error?: unknown };
}
interface KeysFile {
  keys: Record<string, { material?: string; encoding?: string }>;
}

const setUrl = (set: string, file = ''): URL => new URL(`${set}/${file}`, VECTORS_DIR);
const readJson = <T>(url: URL): T => JSON.parse(readFileSync(url, 'utf8')) as T;
const fileRef = (set: string, ref: string): Uint8Array =>
  new Uint8Array(readFileSync(setUrl(set, ref.replace('file://', ''))));

const MANIFEST_SETS = [
  { set: 'raw-aes/v4-Net-4.0.1', negative: false },
  { set: 'raw-aes/valid-Net-4.0.0', negative: false },
  { set: 'raw-aes/invalid-Net-4.0.0', negative: true },
  { set: 'committing/v4-Net-4.0.1', negative: false },
  { set: 'committing/valid-Net-4.0.0', negative: false },
  { set: 'committing/invalid-Net-4.0.0', negative: true },
  { set: 'generated-client-node-0478', negative: false },
];

type Kind = 'decrypt' | 'non-committing' | 'needs-kms' | 'negative';

function classify(test: ManifestTest, ciphertext: Uint8Array, negative: boolean): Kind {
  if (negative) return 'negative';
  if (ciphertext[0] !== 0x02) return 'non-committing';
  if (test['master-keys'].every((key) => key.type === 'aws-kms')) return 'needs-kms';
  return 'decrypt';
}

async function keyringFor(test: ManifestTest, keys: KeysFile): Promise<Keyring> {
  const key = test['master-keys'].find((candidate) => candidate.type === 'raw');
  if (!key) throw new Error('no raw key');
  if (key['encryption-algorithm'] === 'aes') {
    return ourKeyring(vectorKeyBytes(), key.key, key['provider-id']);
  }
  const hash = `SHA-${(key['padding-hash'] ?? 'sha1').replace('sha', '')}` as 'SHA-512';
  return rsaTestKeyring({
    pem: keys.keys[key.key]?.material ?? '',
    keyName: key.key,
    keyNamespace: key['provider-id'] ?? '',
    hash,
  });
}

it('finds the vectors next to the repo', () => {
  expect(readdirSync(VECTORS_DIR)).toEqual(
    expect.arrayContaining(['raw-aes', 'committing', 'js-v2-compat', 'generated-client-node-0478']),
  );
});

for (const { set, negative } of MANIFEST_SETS) {
  const manifest = readJson<{ tests: Record<string, ManifestTest> }>(setUrl(set, 'manifest.json'));
  const keys = readJson<KeysFile>(setUrl(set, 'keys.json'));
  const entries = Object.entries(manifest.tests).map(([name, test]) => {
    const ciphertext = fileRef(set, test.ciphertext);
    return { name, test, ciphertext, kind: classify(test, ciphertext, negative) };
  });
  const count = (kind: Kind): number => entries.filter((entry) => entry.kind === kind).length;
  const rsaCount = entries.filter(
    ({ test, kind }) =>
      kind === 'decrypt' &&
      !test['master-keys'].some((key) => key['encryption-algorithm'] === 'aes'),
  ).length;
  const summary =
    `${entries.length} vectors: ${count('decrypt')} decrypt (${rsaCount} of them raw RSA, through a ` +
    `test-only WebCrypto RSA-OAEP keyring), ${count('negative')} negative, ` +
    `${count('non-committing')} non-committing refused, ${count('needs-kms')} skipped (need AWS KMS)`;

  describe(`${set} (${summary})`, () => {
    for (const { name, test, ciphertext, kind } of entries) {
      if (kind === 'needs-kms') {
        // Skipped with a reason: these vectors wrap their data key under the vector authors' AWS
        // KMS keys, which no local service holds; Model C interop is tested against moto instead
        // (tests/integration/kms.test.ts, tests/integration/cli-kms.test.ts).
        it.skip(`skipped, needs AWS KMS (${count('needs-kms')} in this set): ${name}`, () => {});
        continue;
      }
      if (kind === 'non-committing') {
        it(`refuses a non-committing suite by policy: ${name}`, async () => {
          const keyring = await ourKeyring(vectorKeyBytes());
          await expectCode(decryptBytes(ciphertext, { keyring }), 'NON_COMMITTING_SUITE');
        });
        continue;
      }
      if (kind === 'negative') {
        it(`rejects: ${name}`, async () => {
          const keyring = await keyringFor(test, keys);
          const error = await expectCode(
            decryptBytes(ciphertext, {
              keyring,
              reproducedContext: test['encryption-context'],
            }),
            'HEADER_TAMPERED',
            'NON_COMMITTING_SUITE',
          );
          if (ciphertext[0] === 0x02) expect(error.code).toBe('HEADER_TAMPERED');
        });
        continue;
      }
      it(`decrypts: ${name}`, async () => {
        const keyring = await keyringFor(test, keys);
        const expected = fileRef(set, test.result.output?.plaintext ?? '');
        const plaintext = await decryptBytes(ciphertext, {
          keyring,
          reproducedContext: test['encryption-context'],
        });
        expect(Buffer.from(plaintext).equals(Buffer.from(expected))).toBe(true);
        if (test.cmm !== 'RequiredEncryptionContext') {
          // The stored EC alone is enough when nothing was left out of the header.
          const again = await decryptBytes(ciphertext, { keyring });
          expect(again.length).toBe(expected.length);
        }
      });
    }
  });
}

interface CompatVector {
  ciphertext: string;
  'decrypted-dek': string;
  'plaintext-frames'?: string[];
  status: boolean;
  comment: string;
}

const compat = readJson<{ tests: CompatVector[] }>(setUrl('js-v2-compat', 'compat-vectors.json'));

/** True when the first frame's (or the non-framed body's) IV is not 00x8 || 00000001. */
function hasNonCanonicalIv(ciphertext: Uint8Array): boolean {
  const header = parseHeaderBytes(ciphertext);
  const body = ciphertext.subarray(header.headerBytes);
  let ivAt = 0;
  if (header.contentType === 'framed') ivAt = readU32(body, 0) === 0xffff_ffff ? 8 : 4;
  const iv = Buffer.from(body.subarray(ivAt, ivAt + 12)).toString('hex');
  return iv !== '000000000000000000000001';
}

describe('js-v2-compat (46 messages from JS, C, Python, Java: 29 decrypt, 12 decrypt only with non-canonical IVs allowed, 5 negative)', () => {
  it('has 41 positive and 5 negative vectors', () => {
    expect(compat.tests.filter((vector) => vector.status)).toHaveLength(41);
    expect(compat.tests.filter((vector) => !vector.status)).toHaveLength(5);
  });
  for (const vector of compat.tests) {
    const ciphertext = new Uint8Array(Buffer.from(vector.ciphertext, 'base64'));
    const keyring = staticKeyring(new Uint8Array(Buffer.from(vector['decrypted-dek'], 'base64')));
    const expected = (vector['plaintext-frames'] ?? []).join('');
    if (vector.status && hasNonCanonicalIv(ciphertext)) {
      it(`refuses non-canonical IVs by default, decrypts when allowed: ${vector.comment}`, async () => {
        await expectCode(decryptBytes(ciphertext, { keyring }), 'NON_CANONICAL_IV');
        const plaintext = await decryptBytes(ciphertext, { keyring, allowNonCanonicalIv: true });
        expect(Buffer.from(plaintext).toString('utf8')).toBe(expected);
      });
    } else if (vector.status) {
      it(`decrypts: ${vector.comment}`, async () => {
        const plaintext = await decryptBytes(ciphertext, { keyring });
        expect(Buffer.from(plaintext).toString('utf8')).toBe(expected);
      });
    } else {
      it(`rejects (commitment): ${vector.comment}`, async () => {
        await expectCode(decryptBytes(ciphertext, { keyring }), 'COMMITMENT_MISMATCH');
      });
    }
  }
});
