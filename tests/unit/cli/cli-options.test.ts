/**
 * The `veil` command line does what its help says, spawned as users run it (node bin/veil.mjs):
 * every repeated key option is kept, an existing OUT is replaced only with --force, the app's
 * passphrase backups (.jwe) open, and a failure is one line that names what happened.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseKeyFile } from '../../../src/core/key-file';
import { createBackup } from '../../../src/keyrings/key-backup';
import { PEER_SUITE_0578, patternBytes, peer, peerKeyring } from '../core/helpers';

// Each test spawns the CLI (Node + tsx) several times: seconds each on a loaded machine.
vi.setConfig({ testTimeout: 120_000 });

const BIN = fileURLToPath(new URL('../../../bin/veil.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'veil-cli-options-'));
const path = (name: string): string => join(dir, name);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with the test's environment plus `env` (a value of undefined removes it). */
function veil(env: Record<string, string | undefined>, ...args: string[]): Promise<Run> {
  const merged: Record<string, string | undefined> = { ...process.env, ...env };
  for (const [name, value] of Object.entries(env)) if (value === undefined) delete merged[name];
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: dir, env: merged },
      (error, stdout, stderr) => {
        resolve({
          code: error ? (typeof error.code === 'number' ? error.code : 1) : 0,
          stdout,
          stderr,
        });
      },
    );
  });
}

function expectOneLine(run: Run, code: string): void {
  expect(run.code).not.toBe(0);
  expect(run.stderr.trimEnd().split('\n')).toEqual([
    expect.stringMatching(new RegExp(`^${code}: `)),
  ]);
}

const noTemporaryFiles = (): void => {
  expect(readdirSync(dir).filter((name) => name.includes('.tmp-'))).toEqual([]);
};

const plaintext = patternBytes(70_000, 5);
const PASSPHRASE = 'correct horse battery staple';

beforeAll(async () => {
  writeFileSync(path('plain.bin'), plaintext);
  for (const kid of ['alpha', 'beta', 'gamma']) {
    expect((await veil({}, 'keygen', `${kid}.jwk`, '--kid', kid)).code).toBe(0);
  }
  const key = parseKeyFile(readFileSync(path('gamma.jwk'), 'utf8'));
  writeFileSync(path('gamma.jwe'), await createBackup(key, PASSPHRASE));
}, 60_000);

describe('repeated key options', () => {
  it('keeps every --key-file: one EDK each, and each key alone decrypts', async () => {
    const run = await veil(
      {},
      'encrypt',
      '--key-file',
      'alpha.jwk',
      '--key-file',
      'beta.jwk',
      'plain.bin',
      'two.enc',
    );
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const view = JSON.parse((await veil({}, 'inspect', 'two.enc')).stdout) as {
      encryptedDataKeys: { rawAesKeyName?: string }[];
    };
    expect(view.encryptedDataKeys.map((edk) => edk.rawAesKeyName)).toEqual(['alpha', 'beta']);
    for (const kid of ['alpha', 'beta']) {
      expect(
        (await veil({}, 'decrypt', '--key-file', `${kid}.jwk`, 'two.enc', `${kid}.out`)).code,
      ).toBe(0);
      expect(readFileSync(path(`${kid}.out`)).equals(Buffer.from(plaintext))).toBe(true);
    }
    // On decrypt every key given is offered, in order: a key that does not fit comes first.
    const offered = await veil(
      {},
      'decrypt',
      '--key-file',
      'gamma.jwk',
      '--key-file',
      'beta.jwk',
      'two.enc',
      'offered.out',
    );
    expect(offered).toMatchObject({ code: 0, stderr: '' });
  });
});

describe('no silent overwrite', () => {
  it('refuses an existing OUT with OUTPUT_EXISTS unless --force, and --force replaces it', async () => {
    writeFileSync(path('taken.enc'), 'keep me');
    const refused = await veil({}, 'encrypt', '--key-file', 'alpha.jwk', 'plain.bin', 'taken.enc');
    expectOneLine(refused, 'OUTPUT_EXISTS');
    expect(refused.stderr).toContain('--force');
    expect(readFileSync(path('taken.enc'), 'utf8')).toBe('keep me');
    const forced = await veil(
      {},
      'encrypt',
      '--key-file',
      'alpha.jwk',
      '--force',
      'plain.bin',
      'taken.enc',
    );
    expect(forced).toMatchObject({ code: 0, stderr: '' });

    writeFileSync(path('taken.out'), 'keep me too');
    expectOneLine(
      await veil({}, 'decrypt', '--key-file', 'alpha.jwk', 'taken.enc', 'taken.out'),
      'OUTPUT_EXISTS',
    );
    expect(readFileSync(path('taken.out'), 'utf8')).toBe('keep me too');
    // A failed forced decryption leaves the old OUT as it was.
    expectOneLine(
      await veil({}, 'decrypt', '--key-file', 'beta.jwk', '--force', 'taken.enc', 'taken.out'),
      'NO_MATCHING_EDK',
    );
    expect(readFileSync(path('taken.out'), 'utf8')).toBe('keep me too');
    expect(
      (await veil({}, 'decrypt', '--key-file', 'alpha.jwk', '--force', 'taken.enc', 'taken.out'))
        .code,
    ).toBe(0);
    expect(readFileSync(path('taken.out')).equals(Buffer.from(plaintext))).toBe(true);
    noTemporaryFiles();
  });
});

describe('passphrase backups (.jwe) as written by the app', () => {
  it('open with VEIL_KEY_PASSPHRASE, for encrypt and decrypt', async () => {
    const env = { VEIL_KEY_PASSPHRASE: PASSPHRASE };
    const encrypted = await veil(env, 'encrypt', '--key-file', 'gamma.jwe', 'plain.bin', 'g.enc');
    expect(encrypted).toMatchObject({ code: 0, stderr: '' });
    // The backup holds the same key as gamma.jwk.
    expect((await veil({}, 'decrypt', '--key-file', 'gamma.jwk', 'g.enc', 'g1.out')).code).toBe(0);
    expect((await veil(env, 'decrypt', '--key-file', 'gamma.jwe', 'g.enc', 'g2.out')).code).toBe(0);
    expect(readFileSync(path('g2.out')).equals(Buffer.from(plaintext))).toBe(true);
  });

  it('a wrong passphrase, or none without a terminal, is one catalogued line', async () => {
    const wrong = await veil(
      { VEIL_KEY_PASSPHRASE: 'not the passphrase' },
      'decrypt',
      '--key-file',
      'gamma.jwe',
      'g.enc',
      'g3.out',
    );
    expectOneLine(wrong, 'BACKUP_WRONG_PASSPHRASE');
    const none = await veil(
      { VEIL_KEY_PASSPHRASE: undefined },
      'decrypt',
      '--key-file',
      'gamma.jwe',
      'g.enc',
      'g3.out',
    );
    expectOneLine(none, 'PASSPHRASE_NEEDED');
    expect(none.stderr).toContain('VEIL_KEY_PASSPHRASE');
    expect(existsSync(path('g3.out'))).toBe(false);
  });

  const hasScript = spawnSync('script', ['--version']).status === 0;
  // `script` gives the command a pseudo-terminal; the passphrase is typed after the prompt.
  // Skipped only where util-linux's `script` is missing: it is what gives the CLI a real
  // terminal (a pty) to prompt on; .ci/run's Debian machines have it, so CI runs this test.
  it.skipIf(!hasScript)('on a terminal, asks for the passphrase without echoing it', () => {
    const command = `${process.execPath} ${BIN} decrypt --key-file gamma.jwe g.enc g4.out`;
    // Types only once the prompt is on the terminal (echo is off by then), however slow the start.
    const typist = `until grep -q 'Passphrase for' "$LOG" 2>/dev/null; do sleep 0.1; done; printf '%s\\r' "$PASSPHRASE"`;
    const typed = spawnSync('sh', ['-c', `(${typist}) | script -qfec "$COMMAND" "$LOG"`], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 60_000,
      env: {
        ...process.env,
        VEIL_KEY_PASSPHRASE: '',
        PASSPHRASE,
        COMMAND: command,
        LOG: join(dir, 'terminal.log'),
      },
    });
    expect(typed.stdout).toContain('Passphrase for gamma.jwe (key "gamma"): ');
    expect(typed.stdout).not.toContain(PASSPHRASE);
    expect(typed.status).toBe(0);
    expect(readFileSync(path('g4.out')).equals(Buffer.from(plaintext))).toBe(true);
  });
});

describe('one line that says what happened', () => {
  it('no key given: NO_KEY_GIVEN (not "the key you gave"), and no AWS SDK notice on Node < 22', async () => {
    expect((await veil({}, 'encrypt', '--key-file', 'alpha.jwk', 'plain.bin', 'a.enc')).code).toBe(
      0,
    );
    const run = await veil(
      {
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: undefined,
        // No region anywhere: the CLI asks the SDK for the profile's, which builds a client.
        AWS_REGION: undefined,
        AWS_DEFAULT_REGION: undefined,
        AWS_PROFILE: undefined,
        AWS_CONFIG_FILE: join(dir, 'no-aws-config'),
        AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'secret',
      },
      'decrypt',
      'a.enc',
      'nokey.out',
    );
    expectOneLine(run, 'NO_KEY_GIVEN');
    expect(run.stderr).not.toContain('the key you gave');
    expect(run.stderr).toContain('--key-file');
    expect(run.stderr).not.toContain('NodeVersionSupportWarning');
    expect(existsSync(path('nokey.out'))).toBe(false);
  });

  it('a signed message missing only its signature: SIGNATURE_MISSING, not TRUNCATED', async () => {
    const key = parseKeyFile(readFileSync(path('alpha.jwk'), 'utf8'));
    const { result } = await peer.encrypt(
      peerKeyring(key.keyBytes, key.keyName, key.keyNamespace),
      Buffer.from(plaintext),
      { suiteId: PEER_SUITE_0578, frameLength: 4096 },
    );
    // The footer is a 2-byte length and that many signature bytes, at the very end.
    const footerStart = [...Array(40).keys()]
      .map((extra) => result.length - 92 - extra)
      .find((start) => result.readUInt16BE(start) === result.length - start - 2);
    writeFileSync(path('unsigned.enc'), result.subarray(0, footerStart));
    const run = await veil({}, 'decrypt', '--key-file', 'alpha.jwk', 'unsigned.enc', 'u.out');
    expectOneLine(run, 'SIGNATURE_MISSING');
    expect(run.stderr).toContain('ends before its signature');
    expect(existsSync(path('u.out'))).toBe(false);
    noTemporaryFiles();
  });
});
