/**
 * Credentials against moto's Cognito: guest and authenticated identities and user-pool login
 * errors. Refresh across a real expiry is in credentials-expiry.waits.test.ts. The hosted UI
 * (PKCE) flow is not here: moto has no hosted UI (its pure parts are unit tested).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AwsClients } from '../../src/aws/clients';
import {
  IdentityIdCache,
  UserPoolTokens,
  cognitoGuestProvider,
  cognitoUserProvider,
  refreshUserPoolSession,
  signInWithPassword,
  summarise,
} from '../../src/aws/credentials';
import { idTokenExpiryMs } from '../../src/aws/id-token';
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

describe('Cognito identities', () => {
  test('a guest gets an identity id and temporary credentials that expire', async () => {
    const cache = new IdentityIdCache();
    const summary = await summarise(cognitoGuestProvider(clients, stack.config, cache));
    expect(summary.identityId).toMatch(/^us-east-1:[0-9a-f-]{36}$/);
    // The guest identity id is cached in the given in-memory cache, and reused from it.
    expect(
      cache.getItem(
        `aws:cognito-identity-credentials:${stack.config.cognito!.identityPoolId}:ANONYMOUS`,
      ),
    ).toBe(summary.identityId);
    const again = await summarise(cognitoGuestProvider(clients, stack.config, cache));
    expect(again.identityId).toBe(summary.identityId);
    expect(summary.accessKeyHint).toHaveLength(4);
    expect(summary.expiresAt!.getTime()).toBeGreaterThan(Date.now());
  });

  test('the demo user signs in; the ID token yields authenticated credentials', async () => {
    const session = await signInWithPassword(
      clients,
      stack.config,
      DEMO.demoUser.username,
      DEMO.demoUser.password,
    );
    expect(session.idToken.split('.')).toHaveLength(3);
    expect(session.refreshToken).toBeTruthy();
    // The session ends when the ID token does (its `exp`), not after the access token's lifetime.
    expect(session.expiresAtMs).toBe(idTokenExpiryMs(session.idToken));
    const renewed = await refreshUserPoolSession(clients, stack.config, session);
    expect(renewed.idToken.split('.')).toHaveLength(3);
    const tokens = new UserPoolTokens(session, (s) =>
      refreshUserPoolSession(clients, stack.config, s),
    );
    const summary = await summarise(
      cognitoUserProvider(clients, stack.config, () => tokens.idToken()),
    );
    expect(summary.identityId).toMatch(/^us-east-1:/);
    expect(summary.expiresAt!.getTime()).toBeGreaterThan(Date.now());
  });

  test('a wrong password or unknown user is LOGIN_FAILED', async () => {
    for (const [user, password] of [
      [DEMO.demoUser.username, 'Wrong-password-2026'],
      ['nobody-here', 'Wrong-password-2026'],
    ] as const) {
      await expect(signInWithPassword(clients, stack.config, user, password)).rejects.toMatchObject(
        { code: 'LOGIN_FAILED' },
      );
    }
  });

  test('an identity pool that does not exist is CREDENTIALS_FAILED', async () => {
    const config = {
      ...stack.config,
      cognito: { identityPoolId: 'us-east-1:00000000-0000-0000-0000-000000000000' },
    };
    await expect(summarise(cognitoGuestProvider(clients, config))).rejects.toMatchObject({
      code: 'CREDENTIALS_FAILED',
    });
  });
});
