/**
 * Refresh across a real expiry of moto's identity pool credentials (they last 90 s), during a
 * long run of Model C operations signed with them. The test spends most of its time waiting for
 * that expiry, so it is a `*.waits.test.ts` file: the `integration-waits` project runs it beside
 * the other integration files instead of after them (vitest.config.ts).
 *
 * What this proves and what it does not: moto does not reject expired or unknown credentials on
 * KMS or S3 calls, so the test checks that every signed call got credentials that were still
 * valid (and not within the refresh margin) at the time, and that new ones were fetched before
 * the first set expired; it cannot show AWS refusing stale ones.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AwsClients } from '../../src/aws/clients';
import type { VeilCredentials } from '../../src/aws/credentials';
import { cognitoGuestProvider, refreshingProvider } from '../../src/aws/credentials';
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
