/**
 * The `veil` command line's option checks (src/cli/options.ts), as a function: an option that
 * does not repeat is refused when given twice (the last one no longer wins silently), and
 * `--hsm-proxy` must be https except to this machine. One spawned case shows the exit code and
 * the single stderr line.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { VeilError } from '../../../src/core/errors';
import { checkHsmProxyUrl, parseCommandLine } from '../../../src/cli/options';

/** The error `run` throws (undefined when it returns). */
function thrown(run: () => unknown): VeilError | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof VeilError) return error;
    throw error;
  }
  return undefined;
}

describe('options given more than once', () => {
  const once: [string, string[]][] = [
    ['encrypt', ['--hsm-proxy', 'https://a.example', '--hsm-proxy', 'https://b.example']],
    ['decrypt', ['--region', 'us-east-1', '--region', 'eu-west-1']],
    ['inspect', ['--endpoint-url', 'http://127.0.0.1:1', '--endpoint-url=http://127.0.0.1:2']],
    ['keygen', ['--kid', 'a', '--kid', 'b']],
    ['keygen', ['--namespace', 'a', '--namespace', 'b']],
    ['encrypt', ['--frame-bytes', '1', '--frame-bytes', '2']],
    ['decrypt', ['--force', '--force']],
  ];

  it.each(once)('%s %j: USAGE naming the option', (command, args) => {
    const error = thrown(() => parseCommandLine(command, [...args, 'IN', 'OUT']));
    const name = (args[0] ?? '').split('=')[0] ?? '';
    expect(error?.code).toBe('USAGE');
    expect(error?.detail).toBe(`${name} was given more than once: give it once`);
    expect(error?.message).not.toContain('\n');
  });

  it('the repeatable options keep every value', () => {
    const line = parseCommandLine('encrypt', [
      '--key-file',
      'a.jwk',
      '--key-file',
      'b.jwk',
      '--kms-key',
      'alias/a',
      '--kms-key',
      'alias/b',
      '--hsm-proxy',
      'https://hsm.example',
      '--hsm-key',
      'x',
      '--hsm-key',
      'y',
      '--context',
      'a=1',
      '--context',
      'b=2',
      'IN',
      'OUT',
    ]);
    expect(line.values['key-file']).toEqual(['a.jwk', 'b.jwk']);
    expect(line.values['kms-key']).toEqual(['alias/a', 'alias/b']);
    expect(line.values['hsm-key']).toEqual(['x', 'y']);
    expect(line.values.context).toEqual(['a=1', 'b=2']);
    expect(line.values['hsm-proxy']).toBe('https://hsm.example');
    expect(line.positionals).toEqual(['IN', 'OUT']);
  });

  it('an unknown command, or an option the command does not take, is still USAGE', () => {
    expect(thrown(() => parseCommandLine('frobnicate', []))?.code).toBe('USAGE');
    expect(thrown(() => parseCommandLine('keygen', ['--force', 'x']))?.detail).toBe(
      '--force does not apply to keygen',
    );
    expect(thrown(() => parseCommandLine('encrypt', ['--nope']))?.code).toBe('USAGE');
  });
});

describe('--hsm-proxy', () => {
  it.each([
    'https://hsm.example.com',
    'https://10.0.0.5:8443/',
    'http://127.0.0.1:8081',
    'http://127.1.2.3',
    'http://localhost:8081',
    'http://[::1]:8081',
  ])('accepts %s', (url) => {
    expect(thrown(() => checkHsmProxyUrl(url))).toBeUndefined();
    expect(parseCommandLine('decrypt', ['--hsm-proxy', url, 'IN', 'OUT']).values['hsm-proxy']).toBe(
      url,
    );
  });

  it.each([
    'http://hsm.example.com',
    'http://10.0.0.5:8081',
    'http://128.0.0.1',
    'http://localhost.example.com',
    'http://127.0.0.1.example.com',
    'http://[::2]',
  ])('refuses plain http to another machine: %s', (url) => {
    const error = thrown(() => parseCommandLine('decrypt', ['--hsm-proxy', url, 'IN', 'OUT']));
    expect(error?.code).toBe('HSM_PROXY_INSECURE');
    expect(error?.message).toContain('Use the proxy’s https:// URL');
  });

  it.each(['hsm.example.com', 'ftp://hsm.example.com', 'file:///tmp/x'])(
    'refuses what is not an http(s) URL: %s',
    (url) => {
      expect(thrown(() => checkHsmProxyUrl(url))?.code).toBe('USAGE');
    },
  );
});

describe('spawned', () => {
  const BIN = fileURLToPath(new URL('../../../bin/veil.mjs', import.meta.url));
  const veil = (...args: string[]) =>
    new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(process.execPath, [BIN, ...args], (error, _stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stderr });
      });
    });

  it('a repeated --region exits 2 with one line; an http --hsm-proxy off-machine exits 1', async () => {
    const [repeated, insecure] = await Promise.all([
      veil('decrypt', '--region', 'us-east-1', '--region', 'eu-west-1', 'in', 'out'),
      veil('decrypt', '--hsm-proxy', 'http://hsm.example.com', 'in', 'out'),
    ]);
    expect(repeated.code).toBe(2);
    expect(repeated.stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(/^USAGE: .*--region was given more than once/),
    ]);
    expect(insecure.code).toBe(1);
    expect(insecure.stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(/^HSM_PROXY_INSECURE: .*https:\/\//),
    ]);
  }, 120_000);
});
