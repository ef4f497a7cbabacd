/**
 * Runs npm scripts at the same time and fails if any fails: `tsx scripts/run-parallel.ts
 * check:lint check:types`. `npm run check` uses it for ESLint and the type checkers, which
 * each keep one core busy, on machines with two or more.
 */
import { spawn } from 'node:child_process';

function run(script: string): Promise<number> {
  const child = spawn('npm', ['run', '--silent', script], { stdio: 'inherit' });
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

const scripts = process.argv.slice(2);
if (scripts.length === 0) {
  console.error('usage: tsx scripts/run-parallel.ts SCRIPT...');
  process.exit(2);
}
const codes = await Promise.all(scripts.map(run));
const failed = scripts.filter((_, index) => codes[index] !== 0);
if (failed.length > 0) console.error(`failed: ${failed.join(', ')}`);
process.exit(failed.length > 0 ? 1 : 0);
