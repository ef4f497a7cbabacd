/**
 * `veil share` on several objects at once (`veil share ... s3://B/K1 s3://B/K2 ...`): each
 * object is shared on its own, in the order given, and one that fails does not stop the others.
 * A failure is reported on stderr naming its object; when any failed the command then fails with
 * the first object's error (exit 1), so a script sees both what was done and what was not.
 */
import { errorLine } from './error-line';
import { formatS3Url, type S3Location } from './s3-url';

/**
 * Runs `run` for every target in order. With one target its error is thrown as it is; with
 * several, each failure is passed to `warn` as `failed s3://B/K: CODE: ...` and the first is
 * thrown once all were tried.
 */
export async function eachTarget(
  targets: readonly S3Location[],
  run: (target: S3Location) => Promise<void>,
  warn: (line: string) => void,
): Promise<void> {
  const failures: unknown[] = [];
  for (const target of targets) {
    try {
      await run(target);
    } catch (error) {
      if (targets.length === 1) throw error;
      warn(`failed ${formatS3Url(target)}: ${errorLine(error).replace(/\s*\n\s*/g, ' ')}`);
      failures.push(error);
    }
  }
  if (failures.length > 0) throw failures[0];
}
