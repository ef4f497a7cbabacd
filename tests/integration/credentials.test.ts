/**
 * Credentials against moto's Cognito: guest and authenticated identities, user-pool login
 * errors, and refresh across a real expiry (moto's identity pool credentials last 90 s) during a
 * long run of Model C operations signed with them.
 *
 * What this proves and what it does not: moto does not reject expired or unknown credentials on
 * KMS or S3 calls, so the refresh test checks that every signed call got credentials that were
 * still valid (and not within the refresh margin) at the time, and that new ones were fetched
 * before the first set expired; it cannot show AWS refusing stale ones. The hosted UI (PKCE)
 * flow is not here: moto has no hosted UI (its pure parts are unit tested).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AwsClients } from '../../src/aws/clients';
import type { VeilCredentials } from '../../src/aws/credentials';
import {
  IdentityIdCache,
  UserPoolTokens,
  cognitoGuestProvider,
  cognitoUserProvider,
  refreshUserPoolSession,
  refreshingProvider,
  signInWithPassword,
  summarise,
} from '../../src/aws/credentials';
import { idTokenExpiryMs } from '../../src/aws/id-token';
import { DEMO } from '../../scripts/stack/stack';
import { decryptBytes, encryptBytes } from '../../src/core/one-shot';
import { KmsKeyring } from '../../src/keyrings/kms';
import { buildUploadContext } from '../../src/keyrings/upload-context';
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

describe('refresh across an expiry', () => {
  test('a Model C workload outlives the first credentials without ever signing with stale ones', async () => {
    const marginMs = 30_000;
    const fetched: { at: number; credentials: VeilCredentials }[] = [];
    const guest = cognitoGuestProvider(clients, stack.config);
    const provider = refreshingProvider(
      async () => {
        const credentials = await guest();
        fetched.push({ at: Date.now(), credentials });
        return credentials;
      },
      { marginMs },
    );
    const handedOut: { at: number; expiresAtMs: number }[] = [];
    const signed = new AwsClients(stack.config, async () => {
      const credentials = await provider();
      handedOut.push({
        at: Date.now(),
        expiresAtMs: credentials.expiration!.getTime(),
      });
      return credentials;
    });
    const first = await provider();
    const firstExpiryMs = first.expiration!.getTime();
    const lifetimeMs = firstExpiryMs - Date.now();
    // moto's sessions last 90 s; the test needs to outlive one, so it is bounded by that.
    expect(lifetimeMs).toBeGreaterThan(marginMs);
    expect(lifetimeMs).toBeLessThan(100_000);

    const keyring = new KmsKeyring({
      clients: signed.kmsSupplier(),
      generatorKeyId: stack.aws.kmsAlias,
    });
    const encryptionContext = buildUploadContext({
      bucket: stack.config.bucket,
      identityId: first.identityId,
    });
    let rounds = 0;
    let lastRoundAt = 0;
    while (lastRoundAt <= firstExpiryMs) {
      lastRoundAt = Date.now();
      const input = crypto.getRandomValues(new Uint8Array(1024));
      const message = await encryptBytes(input, { keyring, encryptionContext });
      expect(await decryptBytes(message, { keyring })).toEqual(input);
      rounds += 1;
      await new Promise((resolve) => setTimeout(resolve, 3_000));
    }
    signed.destroy();

    expect(rounds).toBeGreaterThan(10);
    // New credentials were fetched before the first ones expired...
    expect(fetched.length).toBeGreaterThanOrEqual(2);
    expect(fetched[1]!.at).toBeLessThan(firstExpiryMs - marginMs + 5_000);
    expect(fetched[1]!.at).toBeLessThan(firstExpiryMs);
    // ...every signed call got credentials valid for at least the margin minus one round...
    for (const use of handedOut) expect(use.expiresAtMs - use.at).toBeGreaterThan(marginMs - 5_000);
    // ...and calls after the first expiry used later credentials (moto reuses the access key
    // id, so they are told apart by their expiry).
    const late = handedOut.filter((use) => use.at > firstExpiryMs);
    expect(late.length).toBeGreaterThan(0);
    expect(late.every((use) => use.expiresAtMs > firstExpiryMs + marginMs)).toBe(true);
  }, 120_000);
});
