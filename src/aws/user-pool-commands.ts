/**
 * The Cognito user-pool commands user-pool.ts sends (sign-in, renewal, revocation), in one module
 * fetched by the first of them ([Note: lazy seams] in sdk-loader.ts), so the sign-in code can be
 * imported by the first view without the AWS SDK.
 */
export { InitiateAuthCommand, RevokeTokenCommand } from '@aws-sdk/client-cognito-identity-provider';
