/**
 * [Note: lazy seams] The page's first paint needs only the shell (src/main.ts, views/App.svelte,
 * the router and the start-up state); everything heavy is fetched on demand with `import()`
 * through `loadOnce` (core/load-once.ts):
 *
 * - each view (Upload, Files, Keys, Learn, Settings, the share page), through
 *   views/LazyView.svelte, so a view's code and what only it uses come with it;
 * - the AWS SDK clients, through `loadAwsClients` below: the AWS session awaits it when the user
 *   signs in, so code that later asks the session for a client finds the SDK loaded and stays
 *   synchronous ([Note: one client factory] in clients.ts);
 * - the S3 commands the upload queue and the one S3 adapter send (transfer/s3-commands.ts), the
 *   Cognito user-pool commands (user-pool.ts) and the identity-pool provider
 *   (cognito-identity.ts), each fetched by its first call, which is already asynchronous.
 *
 * Nothing the first view shows may import `@aws-sdk/*` by value: `npm run build` prints the
 * initial JavaScript's size and tests/integration/initial-js.test.ts fails when it passes its
 * budget (scripts/build/initial-js.ts).
 */
import { loadOnce } from '../core/load-once';
import type { AwsClients, AwsTarget, CredentialsInput } from './clients';

const clientsModule = loadOnce(() => import('./clients'));

/**
 * The AWS client factory for `target` and `credentials`, once the SDK's code is loaded.
 * @throws VeilError APP_CODE_UNAVAILABLE when the SDK's code cannot be fetched.
 */
export async function loadAwsClients(
  target: AwsTarget,
  credentials?: CredentialsInput,
): Promise<AwsClients> {
  const { AwsClients } = await clientsModule.load();
  return new AwsClients(target, credentials);
}
