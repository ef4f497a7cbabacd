/**
 * A SoftHSM2 token in a project-local directory: its own softhsm2.conf (pointed at by
 * SOFTHSM2_CONF, so nothing global changes), an initialised token, and a non-extractable
 * AES-256 key under a label, created through PKCS#11 like the CloudHSM path would be.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Hsm, type HsmKeyInfo } from '../../server/hsm-proxy/src/hsm';
import { StackError } from './process';

export const SOFTHSM_INSTALL = 'sudo apt-get install -y softhsm2';

const LIBRARY_CANDIDATES = [
  '/usr/lib/softhsm/libsofthsm2.so',
  '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/local/lib/softhsm/libsofthsm2.so',
  '/opt/homebrew/lib/softhsm/libsofthsm2.so',
];

export interface SoftHsmOptions {
  /** Directory that holds the config and the token files (created if needed). */
  dir: string;
  tokenLabel: string;
  pin: string;
  soPin: string;
  keyLabel: string;
}

export interface SoftHsmToken {
  conf: string;
  libraryPath: string;
  tokenLabel: string;
  pin: string;
  key: HsmKeyInfo;
  keyCreated: boolean;
}

/** @throws StackError with the install command when SoftHSM2 is missing. */
export function findSoftHsm(): { libraryPath: string } {
  const util = spawnSync('softhsm2-util', ['--version'], { encoding: 'utf8' });
  const libraryPath =
    process.env.VEIL_SOFTHSM_LIBRARY ?? LIBRARY_CANDIDATES.find((p) => existsSync(p));
  if (util.status !== 0 || !libraryPath) {
    throw new StackError(
      'SoftHSM2 (softhsm2-util and libsofthsm2.so) is not installed.',
      SOFTHSM_INSTALL,
    );
  }
  return { libraryPath };
}

function softhsmUtil(conf: string, args: string[]): string {
  const result = spawnSync('softhsm2-util', args, {
    encoding: 'utf8',
    env: { ...process.env, SOFTHSM2_CONF: conf },
  });
  if (result.status !== 0) {
    throw new StackError(`softhsm2-util ${args[0] ?? ''} failed: ${result.stderr.trim()}`);
  }
  return result.stdout;
}

/**
 * Makes sure the token and its key exist; idempotent. Sets SOFTHSM2_CONF for this process,
 * because the PKCS#11 library reads it when it initialises.
 */
export async function ensureSoftHsmToken(o: SoftHsmOptions): Promise<SoftHsmToken> {
  const { libraryPath } = findSoftHsm();
  const dir = resolve(o.dir);
  const tokens = join(dir, 'tokens');
  await mkdir(tokens, { recursive: true, mode: 0o700 });
  const conf = join(dir, 'softhsm2.conf');
  await writeFile(
    conf,
    `# Veil's project-local SoftHSM2 configuration.\ndirectories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`,
    { mode: 0o600 },
  );
  const slots = softhsmUtil(conf, ['--show-slots']);
  const labels = [...slots.matchAll(/^\s*Label:\s*(.*?)\s*$/gm)].map((m) => m[1]);
  if (!labels.includes(o.tokenLabel)) {
    softhsmUtil(conf, [
      '--init-token',
      '--free',
      '--label',
      o.tokenLabel,
      '--pin',
      o.pin,
      '--so-pin',
      o.soPin,
    ]);
  }
  process.env.SOFTHSM2_CONF = conf;
  const hsm = await Hsm.open({ libraryPath, tokenLabel: o.tokenLabel, pin: o.pin }, 1);
  try {
    const existing = await hsm.keys.describeKey(o.keyLabel);
    if (!existing) await hsm.keys.createKey(o.keyLabel);
    const key = existing ?? (await hsm.keys.describeKey(o.keyLabel));
    if (!key) throw new StackError(`the key "${o.keyLabel}" was not found after creating it`);
    return { conf, libraryPath, tokenLabel: o.tokenLabel, pin: o.pin, key, keyCreated: !existing };
  } finally {
    await hsm.close();
  }
}
