/**
 * What moto's cognito-idp does with a refresh token, measured, since "Stay signed in on this
 * device" ([Note: stay signed in] in src/aws/stay-signed-in.ts) depends on it:
 *
 * - REFRESH_TOKEN_AUTH (InitiateAuth) with a refresh token from USER_PASSWORD_AUTH gives new ID
 *   tokens, which the identity pool turns into credentials;
 * - an unknown (or altered) refresh token is refused (NotAuthorizedException ->
 *   CREDENTIALS_EXPIRED), and so is one revoked by AdminUserGlobalSignOut;
 * - what moto does not do: expire refresh tokens (it ignores RefreshTokenValidity) and the
 *   RevokeToken call (measured below: moto does not implement it). No test here claims either.
 */
import {
  AdminUserGlobalSignOutCommand,
  CognitoIdentityProviderClient,
  RevokeTokenCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AwsClients } from '../../src/aws/clients';
import {
  cognitoUserProvider,
  refreshUserPoolSession,
  signInWithPassword,
  summarise,
} from '../../src/aws/credentials';
import { DEMO } from '../../scripts/stack/stack';
import { startProvisionedMoto, type MotoStack } from './kms-moto';

let stack: MotoStack;
let clients: AwsClients;

beforeAll(async () => {
  stack = await startProvisionedMoto();
  clients = new AwsClients(stack.config);
});

afterAll(async () => {
  clients?.destroy();
  await stack?.stop();
});

function adminIdp(): CognitoIdentityProviderClient {
  return new CognitoIdentityProviderClient({
    region: 'us-east-1',
    endpoint: stack.motoUrl,
    credentials: { accessKeyId: 'veil-local', secretAccessKey: 'veil-local-secret' },
  });
}

const signIn = () =>
  signInWithPassword(clients, stack.config, DEMO.demoUser.username, DEMO.demoUser.password);

describe("moto's REFRESH_TOKEN_AUTH", () => {
  test('a refresh token alone gives new ID tokens and identity-pool credentials', async () => {
    const { refreshToken } = await signIn();
    expect(refreshToken).toBeTruthy();
    // Only the refresh token survives a reload: no ID token, an expiry in the past.
    const renewed = await refreshUserPoolSession(clients, stack.config, {
      username: DEMO.demoUser.username,
      idToken: '',
      refreshToken,
      expiresAtMs: 0,
    });
    expect(renewed.idToken.split('.')).toHaveLength(3);
    expect(renewed.refreshToken).toBe(refreshToken);
    const summary = await summarise(
      cognitoUserProvider(clients, stack.config, () => Promise.resolve(renewed.idToken)),
    );
    expect(summary.identityId).toMatch(/^us-east-1:/);
  });

  test('an altered refresh token is refused as CREDENTIALS_EXPIRED', async () => {
    const { refreshToken } = await signIn();
    const altered = `${refreshToken!.slice(0, -1)}${refreshToken!.endsWith('0') ? '1' : '0'}`;
    await expect(
      refreshUserPoolSession(clients, stack.config, {
        username: 'demo',
        idToken: '',
        refreshToken: altered,
        expiresAtMs: 0,
      }),
    ).rejects.toMatchObject({ code: 'CREDENTIALS_EXPIRED' });
  });

  test('a refresh token revoked by a global sign-out is refused as CREDENTIALS_EXPIRED', async () => {
    const { refreshToken } = await signIn();
    const admin = adminIdp();
    try {
      await admin.send(
        new AdminUserGlobalSignOutCommand({
          UserPoolId: stack.config.cognito!.userPoolId,
          Username: DEMO.demoUser.username,
        }),
      );
    } finally {
      admin.destroy();
    }
    await expect(
      refreshUserPoolSession(clients, stack.config, {
        username: 'demo',
        idToken: '',
        refreshToken,
        expiresAtMs: 0,
      }),
    ).rejects.toMatchObject({ code: 'CREDENTIALS_EXPIRED' });
  });

  test('moto does not implement RevokeToken: the token still works after it', async () => {
    const { refreshToken } = await signIn();
    const idp = adminIdp();
    try {
      const outcome = await idp
        .send(
          new RevokeTokenCommand({
            ClientId: stack.config.cognito!.userPoolClientId,
            Token: refreshToken,
          }),
        )
        .then(
          () => 'answered',
          (error: unknown) => (error as { name?: string }).name ?? 'Error',
        );
      // Measured with moto 5.2: an answer the SDK cannot parse.
      expect(outcome).not.toBe('answered');
    } finally {
      idp.destroy();
    }
    const still = await refreshUserPoolSession(clients, stack.config, {
      username: 'demo',
      idToken: '',
      refreshToken,
      expiresAtMs: 0,
    });
    expect(still.idToken.split('.')).toHaveLength(3);
  });
});
