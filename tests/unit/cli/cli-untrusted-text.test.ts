/**
 * `veil inspect` on a header written to attack the terminal: C1 controls (U+009B is a one-byte
 * CSI), ESC sequences, bidirectional overrides and isolates in the encryption context, the
 * provider ids and the key names are printed as `\uXXXX` escapes ([Note: untrusted text]), and
 * an error that quotes them does the same.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { Keyring } from '../../../src/core/keyring';
import { encryptBytes } from '../../../src/core/one-shot';

// Each test spawns the CLI (Node + tsx) several times: seconds each on a loaded machine.
vi.setConfig({ testTimeout: 120_000 });

const BIN = fileURLToPath(new URL('../../../bin/veil.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'veil-cli-untrusted-'));
const path = (name: string): string => join(dir, name);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function veil(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: dir }, (error, stdout, stderr) => {
      resolve({
        code: error ? (typeof error.code === 'number' ? error.code : 1) : 0,
        stdout,
        stderr,
      });
    });
  });
}

/** The characters of `text` that act on a terminal or reorder text (a newline is JSON layout). */
const unsafeChars = (text: string): string[] =>
  [...text].filter((char) => {
    const code = char.codePointAt(0) ?? 0;
    return (
      (code < 0x20 && code !== 0x0a) ||
      (code >= 0x7f && code <= 0x9f) ||
      [0x061c, 0x200e, 0x200f].includes(code) ||
      (code >= 0x2028 && code <= 0x202e) ||
      (code >= 0x2066 && code <= 0x2069)
    );
  });

// CSI (C1), ESC [2J (clear screen), RLO (right-to-left override), LRI, NEL, LS, DEL.
const HOSTILE = 'a\u009b31mb\u001b[2Jc\u202etxt.exe\u2066d\u0085e\u2028f\u007fg';
const SHOWN = 'a\\u009b31mb\\u001b[2Jc\\u202etxt.exe\\u2066d\\u0085e\\u2028f\\u007fg';

/** A keyring that writes EDKs with hostile provider ids and provider info, and opens none. */
function hostileKeyring(): Keyring {
  const te = new TextEncoder();
  return {
    onEncrypt: (request) =>
      Promise.resolve({
        dataKey: request.dataKey ?? new Uint8Array(32).fill(7),
        encryptedDataKeys: [
          {
            providerId: `p${HOSTILE}`,
            providerInfo: te.encode(`i${HOSTILE}`),
            ciphertext: new Uint8Array(8),
          },
          {
            // Raw AES provider info: key name, then tag length 128 and IV length 12 and an IV.
            providerId: 'veil',
            providerInfo: new Uint8Array([
              ...te.encode(`n${HOSTILE}`),
              ...[0, 0, 0, 128, 0, 0, 0, 12],
              ...new Uint8Array(12),
            ]),
            ciphertext: new Uint8Array(48),
          },
        ],
      }),
    onDecrypt: () => Promise.resolve(undefined),
  };
}

describe('veil inspect on hostile header text', () => {
  it('prints context, provider ids and key names escaped, and errors quote them escaped', async () => {
    const bytes = await encryptBytes(new Uint8Array(100), {
      keyring: hostileKeyring(),
      encryptionContext: { [`k${HOSTILE}`]: `v${HOSTILE}` },
      frameBytes: 4096,
    });
    writeFileSync(path('hostile.enc'), bytes);

    const run = await veil('inspect', 'hostile.enc');
    expect(run.code).toBe(0);
    expect(unsafeChars(run.stdout)).toEqual([]);
    const view = JSON.parse(run.stdout) as {
      encryptionContext: Record<string, string>;
      encryptedDataKeys: {
        providerId: string;
        providerInfoText?: string;
        rawAesKeyName?: string;
      }[];
    };
    expect(view.encryptionContext).toEqual({ [`k${SHOWN}`]: `v${SHOWN}` });
    expect(view.encryptedDataKeys[0]).toMatchObject({
      providerId: `p${SHOWN}`,
      providerInfoText: `i${SHOWN}`,
    });
    expect(view.encryptedDataKeys[1]).toMatchObject({ rawAesKeyName: `n${SHOWN}` });

    // The error that names the file's providers is one line, escaped too.
    writeFileSync(
      path('other.jwk'),
      JSON.stringify({ kty: 'oct', k: 'A'.repeat(43), kid: 'other', namespace: 'veil' }),
    );
    const failed = await veil('decrypt', '--key-file', 'other.jwk', 'hostile.enc', 'out.bin');
    expect(failed.code).toBe(1);
    expect(unsafeChars(failed.stderr.trimEnd())).toEqual([]);
    expect(failed.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(failed.stderr).toContain(`"p${SHOWN}"`);
  });
});
