/**
 * Model B end to end in Node: the HSM-proxy keyring against the real proxy on a SoftHSM2 token,
 * through the core's message format.
 */
import {
  AdminCreateUserCommand,
  AdminSetUserPasswordCommand,
  CognitoIdentityProviderClient,
  InitiateAuthCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { randomBytes } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { decryptBytes, encryptBytes, parseHeaderBytes } from '../../src/core';
import { createMultiKeyring } from '../../src/core/multi-keyring';
import { HSM_PROVIDER_ID, HsmProxyKeyring, listHsmKeyLabels } from '../../src/keyrings/hsm-proxy';
import { RawAesKeyring } from '../../src/keyrings/raw-aes';
import { freePort } from '../../scripts/stack/process';
import { LOCAL_CREDENTIALS } from '../../scripts/stack/provision';
import { DEMO } from '../../scripts/stack/stack';
import { useLocalStack } from './local-stack';

const plaintext = new Uint8Array(randomBytes(300_000));
const context = { 'veil-purpose': 'hsm-keyring-test', 'veil-object': 'a1b2c3' };

function keyring(token = () => local.stack.demoIdToken, keyLabel: string = DEMO.hsmKeyLabel) {
  return new HsmProxyKeyring({ proxyUrl: local.stack.hsmUrl, keyLabel, idToken: token });
}

const local = useLocalStack(['http://127.0.0.1:5997']);

describe('HSM-proxy keyring (Model B)', () => {
  test('round-trips a message and writes one veil-hsm EDK naming the label', async () => {
    const message = await encryptBytes(plaintext, {
      keyring: keyring(),
      encryptionContext: context,
      frameBytes: 65536,
    });
    const header = parseHeaderBytes(message);
    expect(header.encryptedDataKeys).toHaveLength(1);
    const [edk] = header.encryptedDataKeys;
    expect(edk?.providerId).toBe(HSM_PROVIDER_ID);
    expect(new TextDecoder().decode(edk?.providerInfo)).toBe(DEMO.hsmKeyLabel);
    // Owner-bound (version 2): "VH", version 2, binding, digest, then the HSM's 60 bytes.
    expect(edk?.ciphertext).toHaveLength(80);
    const opened = await decryptBytes(message, {
      keyring: new HsmProxyKeyring({
        proxyUrl: local.stack.hsmUrl,
        idToken: () => local.stack.demoIdToken,
      }),
    });
    expect(opened).toEqual(plaintext);
  });

  test('adds an HSM EDK beside a Model A key; either one opens the message', async () => {
    const modelA = await RawAesKeyring.fromBytes({
      keyNamespace: 'veil',
      keyName: 'recovery',
      keyBytes: crypto.getRandomValues(new Uint8Array(32)),
    });
    const message = await encryptBytes(plaintext, {
      keyring: createMultiKeyring({ generator: modelA, children: [keyring()] }),
      encryptionContext: context,
    });
    expect(parseHeaderBytes(message).encryptedDataKeys.map((edk) => edk.providerId)).toEqual([
      'veil',
      HSM_PROVIDER_ID,
    ]);
    expect(await decryptBytes(message, { keyring: keyring() })).toEqual(plaintext);
    expect(await decryptBytes(message, { keyring: modelA })).toEqual(plaintext);
  });

  test('a changed wrapped key is refused as the wrong key and releases nothing', async () => {
    const message = await encryptBytes(plaintext, {
      keyring: keyring(),
      encryptionContext: context,
    });
    const header = parseHeaderBytes(message);
    const ciphertext = header.encryptedDataKeys[0]!.ciphertext;
    const at = Buffer.from(message).indexOf(Buffer.from(ciphertext));
    expect(at).toBeGreaterThan(0);
    const tampered = message.slice();
    tampered[at + 30]! ^= 0x40;
    await expect(decryptBytes(tampered, { keyring: keyring() })).rejects.toMatchObject({
      code: 'WRONG_KEY',
    });
  });

  test('the proxy refuses users without the label, and a dead proxy is named as such', async () => {
    const idp = new CognitoIdentityProviderClient({
      region: local.stack.config.region,
      endpoint: local.stack.motoUrl,
      credentials: LOCAL_CREDENTIALS,
    });
    const UserPoolId = local.stack.aws.userPoolId;
    await idp.send(
      new AdminCreateUserCommand({ UserPoolId, Username: 'no-hsm', MessageAction: 'SUPPRESS' }),
    );
    await idp.send(
      new AdminSetUserPasswordCommand({
        UserPoolId,
        Username: 'no-hsm',
        Password: 'No-hsm-user-2026',
        Permanent: true,
      }),
    );
    const auth = await idp.send(
      new InitiateAuthCommand({
        AuthFlow: 'USER_PASSWORD_AUTH',
        ClientId: local.stack.aws.userPoolClientId,
        AuthParameters: { USERNAME: 'no-hsm', PASSWORD: 'No-hsm-user-2026' },
      }),
    );
    idp.destroy();
    const outsider = auth.AuthenticationResult?.IdToken ?? '';
    await expect(
      encryptBytes(plaintext, { keyring: keyring(() => outsider) }),
    ).rejects.toMatchObject({
      code: 'HSM_FORBIDDEN_LABEL',
    });
    await expect(
      encryptBytes(plaintext, { keyring: keyring(() => 'x.y.z') }),
    ).rejects.toMatchObject({
      code: 'HSM_UNAUTHENTICATED',
    });
    const dead = new HsmProxyKeyring({
      proxyUrl: `http://127.0.0.1:${await freePort()}`,
      keyLabel: DEMO.hsmKeyLabel,
      idToken: () => local.stack.demoIdToken,
      attempts: 2,
    });
    await expect(encryptBytes(plaintext, { keyring: dead })).rejects.toMatchObject({
      code: 'HSM_PROXY_UNREACHABLE',
    });
    expect(
      await listHsmKeyLabels({ proxyUrl: local.stack.hsmUrl, idToken: () => outsider }),
    ).toEqual([]);
    expect(
      await listHsmKeyLabels({
        proxyUrl: local.stack.hsmUrl,
        idToken: () => local.stack.demoIdToken,
      }),
    ).toEqual([DEMO.hsmKeyLabel]);
  });

  test('a message with another encryption context does not open', async () => {
    const message = await encryptBytes(plaintext, {
      keyring: keyring(),
      encryptionContext: context,
    });
    await expect(
      decryptBytes(message, { keyring: keyring(), reproducedContext: { 'veil-purpose': 'other' } }),
    ).rejects.toMatchObject({ code: 'CONTEXT_MISMATCH' });
  });
});
