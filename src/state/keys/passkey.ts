/**
 * The browser's side of passkey unlock: WebAuthn calls that create a passkey for the vault or
 * prove one, each returning the PRF output for the vault's salt ([Note: the vault envelope] in
 * vault-seal.ts). Nothing here is kept: the PRF output goes straight into the KEK derivation and
 * is zeroed by the caller. The relying party is this site's host (the WebAuthn default), so a
 * passkey made for one deployment does not answer another.
 *
 * Failures map to the catalogue: a browser or authenticator without PRF gives
 * PASSKEY_UNAVAILABLE; a cancelled or timed-out prompt, or no passkey of this vault on the
 * device, PASSKEY_CANCELLED.
 */
import { asBufferSource } from '../../core/bytes';
import { VeilError } from '../../core/errors';
import { randomBytes } from './vault-seal';

/** A passkey proved now: its credential id and its PRF output for the vault salt. */
export interface PasskeyResult {
  readonly credentialId: Uint8Array;
  readonly prfOutput: Uint8Array;
}

const TIMEOUT_MS = 120_000;

function credentials(): CredentialsContainer {
  if (typeof PublicKeyCredential === 'undefined' || !navigator.credentials) {
    throw new VeilError('PASSKEY_UNAVAILABLE', 'no WebAuthn');
  }
  return navigator.credentials;
}

function mapped(error: unknown): VeilError {
  if (error instanceof VeilError) return error;
  const name = error instanceof Error ? error.name : '';
  if (name === 'SecurityError') {
    // The relying party id must be a domain name: an IP address (http://127.0.0.1) is refused.
    return new VeilError(
      'PASSKEY_UNAVAILABLE',
      'SecurityError: passkeys need the site to be opened by a domain name, such as localhost, not an IP address',
      { cause: error },
    );
  }
  if (name === 'NotSupportedError') {
    return new VeilError('PASSKEY_UNAVAILABLE', name, { cause: error });
  }
  return new VeilError('PASSKEY_CANCELLED', name || undefined, { cause: error });
}

function prfFirst(credential: PublicKeyCredential): Uint8Array | undefined {
  const first = credential.getClientExtensionResults().prf?.results?.first;
  if (first === undefined) return undefined;
  return first instanceof ArrayBuffer
    ? new Uint8Array(first)
    : new Uint8Array(first.buffer, first.byteOffset, first.byteLength).slice();
}

/**
 * Proves one of `credentialIds` (a user-verified assertion) and returns its PRF output for
 * `vaultSalt`.
 * @throws VeilError PASSKEY_UNAVAILABLE, PASSKEY_CANCELLED.
 */
export async function provePasskey(
  vaultSalt: Uint8Array,
  credentialIds: readonly Uint8Array[],
): Promise<PasskeyResult> {
  if (credentialIds.length === 0) throw new VeilError('PASSKEY_CANCELLED', 'no passkey added');
  let credential: Credential | null;
  try {
    credential = await credentials().get({
      publicKey: {
        challenge: asBufferSource(randomBytes(32)),
        allowCredentials: credentialIds.map((id) => ({
          type: 'public-key' as const,
          id: asBufferSource(id),
        })),
        userVerification: 'required',
        timeout: TIMEOUT_MS,
        extensions: { prf: { eval: { first: asBufferSource(vaultSalt) } } },
      },
    });
  } catch (error) {
    throw mapped(error);
  }
  if (!(credential instanceof PublicKeyCredential)) throw new VeilError('PASSKEY_CANCELLED');
  const prfOutput = prfFirst(credential);
  if (!prfOutput) throw new VeilError('PASSKEY_UNAVAILABLE', 'no PRF result');
  return { credentialId: new Uint8Array(credential.rawId), prfOutput };
}

/**
 * Creates a passkey for the vault (user verification required, a discoverable credential) and
 * returns its PRF output for `vaultSalt`, asking for an assertion when the authenticator gives
 * PRF results only then.
 * @throws VeilError PASSKEY_UNAVAILABLE when PRF is not supported; PASSKEY_CANCELLED.
 */
export async function createPasskey(
  vaultSalt: Uint8Array,
  existing: readonly Uint8Array[],
  userLabel: string,
): Promise<PasskeyResult> {
  let credential: Credential | null;
  try {
    credential = await credentials().create({
      publicKey: {
        rp: { name: 'Veil' },
        user: { id: asBufferSource(randomBytes(16)), name: userLabel, displayName: userLabel },
        challenge: asBufferSource(randomBytes(32)),
        pubKeyCredParams: [
          { type: 'public-key', alg: -7 },
          { type: 'public-key', alg: -257 },
        ],
        authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
        excludeCredentials: existing.map((id) => ({
          type: 'public-key' as const,
          id: asBufferSource(id),
        })),
        timeout: TIMEOUT_MS,
        extensions: { prf: { eval: { first: asBufferSource(vaultSalt) } } },
      },
    });
  } catch (error) {
    throw mapped(error);
  }
  if (!(credential instanceof PublicKeyCredential)) throw new VeilError('PASSKEY_CANCELLED');
  const credentialId = new Uint8Array(credential.rawId);
  const prf = credential.getClientExtensionResults().prf;
  if (!prf?.enabled && !prf?.results) {
    throw new VeilError('PASSKEY_UNAVAILABLE', 'the passkey does not support PRF');
  }
  const prfOutput = prfFirst(credential);
  if (prfOutput) return { credentialId, prfOutput };
  return provePasskey(vaultSalt, [credentialId]);
}
