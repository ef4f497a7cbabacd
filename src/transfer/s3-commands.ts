/**
 * The S3 commands of the upload queue and the one S3 adapter, fetched by the first request that
 * sends one ([Note: lazy seams] in src/aws/sdk-loader.ts): the upload view imports the adapters,
 * and the AWS SDK's code stays out of the page's first paint. Every later call finds them loaded.
 */
import { loadOnce } from '../core';
import type * as S3CommandSet from './s3-command-set';

const commands = loadOnce(() => import('./s3-command-set'));

/**
 * The S3 command classes.
 * @throws VeilError APP_CODE_UNAVAILABLE when their code cannot be fetched.
 */
export function s3Commands(): Promise<typeof S3CommandSet> {
  return commands.load();
}
