/**
 * The region in a Cognito pool id, apart from the client factory (clients.ts) so that sign-in
 * code can name a pool's region without loading the AWS SDK ([Note: lazy seams] in
 * sdk-loader.ts).
 */

/** The region prefix of a Cognito pool id (`us-east-1:uuid` or `us-east-1_abc`). */
export function poolRegion(poolId: string | undefined, separator: ':' | '_'): string | undefined {
  if (!poolId) return undefined;
  const at = poolId.indexOf(separator);
  const region = at > 0 ? poolId.slice(0, at) : '';
  return /^[a-z]{2}(-[a-z]+)+-\d+$/.test(region) ? region : undefined;
}
