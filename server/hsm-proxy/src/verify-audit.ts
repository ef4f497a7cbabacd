/**
 * Checks an audit log's hash chain ([Note: audit hash chain]):
 *
 *   npm run audit:verify -- /var/log/veil/hsm-audit.log
 *
 * Prints the line count and the last line's hash (keep it elsewhere: it anchors the chain) and
 * exits 0; or prints the first broken line and why, and exits 1. Exits 2 when the file cannot
 * be read or no file is named.
 */
import { readFile } from 'node:fs/promises';
import { verifyAuditLog } from './audit-chain';

/** Runs the check on `args`; returns the exit code. Output goes to `print` and `printError`. */
export async function verifyAuditCommand(
  args: readonly string[],
  print: (line: string) => void = console.log,
  printError: (line: string) => void = console.error,
): Promise<number> {
  const [path, ...rest] = args;
  if (!path || rest.length > 0 || path.startsWith('-')) {
    printError('usage: npm run audit:verify -- AUDIT_LOG_FILE');
    return 2;
  }
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    printError(`cannot read ${path}: ${reason}`);
    return 2;
  }
  const result = verifyAuditLog(text);
  if (!result.ok) {
    printError(`${path}: line ${result.line} breaks the chain: ${result.reason}`);
    return 1;
  }
  const unchained =
    result.unchained > 0 ? ` (the first ${result.unchained} predate the chain)` : '';
  print(`${path}: ${result.lines} lines${unchained}, chain intact; last hash ${result.lastHash}`);
  return 0;
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  process.exitCode = await verifyAuditCommand(process.argv.slice(2));
}
