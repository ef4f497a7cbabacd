/**
 * `npm run test:integration`: the integration files one at a time (`integration` project), and
 * beside them the files that mostly wait on a real clock (`integration-waits`, such as moto's
 * 90 s credential expiry), so that the wait overlaps the other files instead of adding to them.
 * vitest runs projects whose files are not parallel one after another in one process, hence two
 * processes. Each writes its own report; the exit status fails if either run fails.
 */
import { spawn } from 'node:child_process';

function vitest(project: string, report: string): Promise<number> {
  const args = [
    'vitest',
    'run',
    '--project',
    project,
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${report}`,
    // A file filter given to one tier may match nothing in the other.
    '--passWithNoTests',
    ...process.argv.slice(2),
  ];
  const child = spawn('npx', args, { stdio: 'inherit' });
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

const [waits, main] = await Promise.all([
  vitest('integration-waits', 'reports/integration-waits.json'),
  vitest('integration', 'reports/integration.json'),
]);
process.exit(waits !== 0 || main !== 0 ? 1 : 0);
