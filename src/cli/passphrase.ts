/**
 * The passphrase of a key backup (.jwe) for the command line: VEIL_KEY_PASSPHRASE when it is
 * set, else a prompt on the terminal with echo off (raw mode: the characters typed are read
 * one by one and never written back). Never from a pipe: a passphrase in a script belongs in
 * the environment, where it is not mixed with data.
 */
import { VeilError } from '../core/errors';
import { quoteUntrusted } from '../core/untrusted-text';

/** The environment variable that supplies a backup's passphrase without a prompt. */
export const PASSPHRASE_ENV = 'VEIL_KEY_PASSPHRASE';

/** The terminal the prompt uses; process.stdin and process.stderr in the command line. */
export interface PromptTerminal {
  readonly input: NodeJS.ReadStream;
  readonly output: NodeJS.WriteStream;
}

const CTRL_C = '\u0003';
const CTRL_D = '\u0004';
const BACKSPACE = new Set(['\u0008', '\u007f']);

/**
 * Reads a line from a TTY without echo. Backspace removes a character; Enter ends; Ctrl-C
 * stops with INTERRUPTED; Ctrl-D on an empty line stops with PASSPHRASE_NEEDED.
 */
function promptWithoutEcho(prompt: string, terminal: PromptTerminal): Promise<string> {
  const { input, output } = terminal;
  return new Promise((resolve, reject) => {
    let typed = '';
    const finish = (error: VeilError | undefined): void => {
      input.off('data', onData);
      input.setRawMode(false);
      input.pause();
      output.write('\n');
      if (error) reject(error);
      else resolve(typed);
      typed = '';
    };
    const onData = (chunk: Buffer | string): void => {
      for (const char of chunk.toString()) {
        if (char === '\r' || char === '\n') return finish(undefined);
        if (char === CTRL_C) return finish(new VeilError('INTERRUPTED', 'SIGINT'));
        if (char === CTRL_D && typed === '') return finish(new VeilError('PASSPHRASE_NEEDED'));
        if (BACKSPACE.has(char)) typed = [...typed].slice(0, -1).join('');
        else if (char >= ' ') typed += char;
      }
    };
    output.write(prompt);
    input.setRawMode(true);
    input.setEncoding('utf8');
    input.on('data', onData);
    input.resume();
  });
}

/**
 * The passphrase for the backup `backupPath` (whose key is `keyName`, if it says).
 * @throws VeilError PASSPHRASE_NEEDED when VEIL_KEY_PASSPHRASE is unset and stdin is not a
 *   terminal (or the prompt was ended with Ctrl-D); INTERRUPTED on Ctrl-C at the prompt.
 */
export async function backupPassphrase(
  backupPath: string,
  keyName: string | undefined,
  env: Readonly<Record<string, string | undefined>> = process.env,
  terminal: PromptTerminal = { input: process.stdin, output: process.stderr },
): Promise<string> {
  const fromEnv = env[PASSPHRASE_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  if (!terminal.input.isTTY) throw new VeilError('PASSPHRASE_NEEDED', backupPath);
  // The key name comes from the backup's unauthenticated header ([Note: untrusted text]).
  const named = keyName === undefined ? '' : ` (key ${quoteUntrusted(keyName)})`;
  return promptWithoutEcho(`Passphrase for ${backupPath}${named}: `, terminal);
}
