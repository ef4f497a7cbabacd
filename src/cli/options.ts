/**
 * The `veil` command line's options: which ones each command takes, which ones repeat, and the
 * checks made before any file is opened. A repeated option that does not repeat is a USAGE error
 * rather than the last one silently winning, and `--hsm-proxy` must be https (http only to this
 * machine), since the user's ID token and the data keys cross that connection.
 */
import { parseArgs } from 'node:util';
import { VeilError } from '../core/errors';

/** Every option; `multiple` marks the ones that repeat (each one given is kept). */
const OPTIONS = {
  'key-file': { type: 'string', multiple: true },
  'private-key-file': { type: 'string', multiple: true },
  'hsm-proxy': { type: 'string' },
  'hsm-key': { type: 'string', multiple: true },
  'kms-key': { type: 'string', multiple: true },
  force: { type: 'boolean' },
  region: { type: 'string' },
  'endpoint-url': { type: 'string' },
  'frame-bytes': { type: 'string' },
  context: { type: 'string', multiple: true },
  pad: { type: 'string' },
  kid: { type: 'string' },
  namespace: { type: 'string' },
  'add-key-file': { type: 'string', multiple: true },
  'add-kms-key': { type: 'string', multiple: true },
  'add-hsm-key': { type: 'string', multiple: true },
  'remove-key': { type: 'string', multiple: true },
  'dry-run': { type: 'boolean' },
  'delete-previous-version': { type: 'boolean' },
  'delete-older-versions': { type: 'boolean' },
  expires: { type: 'string' },
  'app-url': { type: 'string' },
  'include-name': { type: 'boolean' },
  label: { type: 'string' },
  revoke: { type: 'string' },
  list: { type: 'boolean' },
  json: { type: 'boolean' },
  person: { type: 'string' },
  'unshare-person': { type: 'string' },
  'people-root': { type: 'string' },
  name: { type: 'string' },
  'public-key-file': { type: 'string' },
} as const;

type OptionName = keyof typeof OPTIONS;

/** The options that name keys (KEYS in the usage text). */
export const KEY_OPTIONS: readonly OptionName[] = [
  'key-file',
  'private-key-file',
  'hsm-proxy',
  'hsm-key',
  'kms-key',
  'region',
  'endpoint-url',
];

/** The options each command takes. */
const COMMAND_OPTIONS = {
  encrypt: [...KEY_OPTIONS, 'frame-bytes', 'context', 'force'],
  decrypt: [...KEY_OPTIONS, 'force'],
  inspect: KEY_OPTIONS,
  keygen: ['kid', 'namespace'],
  cp: [...KEY_OPTIONS, 'context', 'force', 'pad'],
  ls: KEY_OPTIONS,
  mv: [...KEY_OPTIONS, 'dry-run'],
  names: [...KEY_OPTIONS, 'dry-run'],
  rewrap: [
    ...KEY_OPTIONS,
    'add-key-file',
    'add-kms-key',
    'add-hsm-key',
    'remove-key',
    'dry-run',
    'delete-previous-version',
  ],
  share: [
    ...KEY_OPTIONS,
    'expires',
    'app-url',
    'include-name',
    'label',
    'revoke',
    'list',
    'json',
    'person',
    'unshare-person',
    'delete-older-versions',
    'people-root',
    'name',
  ],
  people: ['region', 'endpoint-url', 'public-key-file', 'private-key-file', 'name'],
} as const satisfies Record<string, readonly OptionName[]>;

export type CommandName = keyof typeof COMMAND_OPTIONS;

function usage(detail: string): never {
  throw new VeilError('USAGE', detail);
}

function isCommandName(text: string): text is CommandName {
  return Object.hasOwn(COMMAND_OPTIONS, text);
}

function parseTokens(args: readonly string[]) {
  return parseArgs({
    args: [...args],
    allowPositionals: true,
    strict: true,
    tokens: true,
    options: OPTIONS,
  });
}

/** The values of the options given, by option name. */
export type OptionValues = ReturnType<typeof parseTokens>['values'];

/** A command line, checked. */
export interface CommandLine {
  readonly command: CommandName;
  readonly values: OptionValues;
  readonly positionals: readonly string[];
}

/** True for a host name of this machine: localhost, ::1 or 127.0.0.0/8 (as URL writes them). */
function isLoopbackHost(hostname: string): boolean {
  return (
    hostname === 'localhost' ||
    hostname === '[::1]' ||
    /^127\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$/.test(hostname)
  );
}

/**
 * Checks the `--hsm-proxy` URL: https, or http to a loopback host (the local stack).
 * @throws VeilError USAGE when it is not an http(s) URL; HSM_PROXY_INSECURE when it is http to
 *   another machine, where the ID token and data keys would cross the network in clear.
 */
export function checkHsmProxyUrl(text: string): void {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    usage('--hsm-proxy takes the proxy’s https:// URL');
  }
  if (url.protocol === 'https:') return;
  if (url.protocol !== 'http:') usage('--hsm-proxy takes the proxy’s https:// URL');
  if (!isLoopbackHost(url.hostname)) throw new VeilError('HSM_PROXY_INSECURE', url.origin);
}

/**
 * Parses the arguments after the command word and checks them: known command, options it takes,
 * none repeated unless it repeats, a safe `--hsm-proxy` URL. Positionals are the command's to
 * check.
 * @throws VeilError USAGE naming what is wrong (one line); HSM_PROXY_INSECURE (checkHsmProxyUrl).
 */
export function parseCommandLine(command: string, args: readonly string[]): CommandLine {
  let parsed: ReturnType<typeof parseTokens>;
  try {
    parsed = parseTokens(args);
  } catch (error) {
    usage(error instanceof Error ? error.message : String(error));
  }
  if (!isCommandName(command)) usage(`unknown command "${command}"`);
  const allowed: readonly OptionName[] = COMMAND_OPTIONS[command];
  const seen = new Set<OptionName>();
  for (const token of parsed.tokens) {
    if (token.kind !== 'option') continue;
    const name = token.name;
    if (!allowed.includes(name)) usage(`--${name} does not apply to ${command}`);
    const repeats = 'multiple' in OPTIONS[name];
    if (seen.has(name) && !repeats) usage(`--${name} was given more than once: give it once`);
    seen.add(name);
  }
  const hsmProxy = parsed.values['hsm-proxy'];
  if (hsmProxy !== undefined) checkHsmProxyUrl(hsmProxy);
  return { command, values: parsed.values, positionals: parsed.positionals };
}
