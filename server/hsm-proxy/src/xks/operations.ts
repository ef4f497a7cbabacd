/**
 * The four XKS API operations (GetKeyMetadata, Encrypt, Decrypt, GetHealthStatus) on a parsed,
 * authenticated request: the allow-list decides which HSM label an external key id names and
 * what it may do; the HSM does the AES-256-GCM. Each operation fills in what its audit line
 * records. Plaintext is zeroed once it has been used and is never recorded.
 */
import { randomBytes } from 'node:crypto';
import type { KeyService } from '../keys';
import { HsmError } from '../pkcs11';
import { auditDigest } from '../wrapped-key';
import type { XksKeyRule, XksOperation, XksSettings } from './config';
import { XksError } from './errors';
import {
  CIPHERTEXT_METADATA,
  hsmAad,
  integrityValue,
  IV_LENGTHS_BYTES,
  MAX_AAD_BYTES,
  MAX_METADATA_BYTES,
  MAX_PLAINTEXT_BYTES,
  TAG_LENGTH_BYTES,
} from './format';
import type { GcmSealed, GcmService } from './hsm-gcm';
import { base64Field, requestMetadata, requireAesGcm, type XksRequestMetadata } from './request';

/** How long the HSM may take for one call: KMS gives the whole request 250 ms. */
export const HSM_BUDGET_MS = 200;

export const XKS_PROXY_VENDOR = 'Veil';
const HEALTH_AAD = Buffer.from('veil-xks-health', 'ascii');
export const XKS_PROXY_MODEL = 'Veil HSM proxy (XKS API v1)';

export type XksApi = 'GetKeyMetadata' | 'Encrypt' | 'Decrypt' | 'GetHealthStatus';

/** What one call uses of the HSM side (an Hsm in production). */
export interface XksBackend {
  gcm: GcmService;
  keys: Pick<KeyService, 'describeKey'>;
}

/** One call as its audit line sees it, filled in as the request is understood. */
export interface XksCall {
  api: XksApi;
  externalKeyId: string | null;
  metadata: XksRequestMetadata | null;
  label: string | null;
  /** SHA-256 of iv || ciphertext || tag, 32 hex digits. */
  ciphertextSha256: string | null;
  aadSha256: string | null;
}

function withinBudget<T>(work: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () =>
        reject(new XksError('DependencyTimeoutException', `the HSM took over ${HSM_BUDGET_MS} ms`)),
      HSM_BUDGET_MS,
    );
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/**
 * The allow-list entry for `externalKeyId`, checked for this call.
 * @throws XksError KeyNotFoundException, AccessDeniedException (kmsKeyArns), and for `operation`
 *   InvalidStateException (disabled) or InvalidKeyUsageException (not allowed).
 */
function allowedKey(
  settings: XksSettings,
  externalKeyId: string,
  metadata: XksRequestMetadata,
  operation?: XksOperation,
): XksKeyRule {
  const rule = settings.keys.get(externalKeyId);
  if (!rule) throw new XksError('KeyNotFoundException', `no external key "${externalKeyId}"`);
  // GetKeyMetadata during CreateKey has no kmsKeyArn yet: only a present ARN is checked.
  if (
    rule.kmsKeyArns &&
    metadata.kmsKeyArn !== undefined &&
    !rule.kmsKeyArns.has(metadata.kmsKeyArn)
  )
    throw new XksError('AccessDeniedException', 'this KMS key may not use this external key');
  if (operation && !rule.enabled) throw new XksError('InvalidStateException');
  if (operation && !rule.operations.has(operation))
    throw new XksError('InvalidKeyUsageException', `this external key does not allow ${operation}`);
  return rule;
}

async function getKeyMetadata(rule: XksKeyRule, backend: XksBackend): Promise<unknown> {
  const info = await withinBudget(backend.keys.describeKey(rule.label));
  if (!info) throw new XksError('KeyNotFoundException', 'the HSM has no key with its label');
  const keyUsage: XksOperation[] = [];
  if (rule.operations.has('ENCRYPT') && info.canEncrypt) keyUsage.push('ENCRYPT');
  if (rule.operations.has('DECRYPT') && info.canDecrypt) keyUsage.push('DECRYPT');
  return {
    keySpec: `AES_${info.bits}`,
    keyUsage,
    keyStatus: rule.enabled ? 'ENABLED' : 'DISABLED',
  };
}

async function encrypt(
  rule: XksKeyRule,
  body: Record<string, unknown>,
  backend: XksBackend,
  call: XksCall,
): Promise<unknown> {
  requireAesGcm(body);
  const wantsIntegrity = body.ciphertextDataIntegrityValueAlgorithm;
  if (wantsIntegrity !== undefined && wantsIntegrity !== 'SHA_256') {
    throw new XksError(
      'ValidationException',
      'ciphertextDataIntegrityValueAlgorithm must be "SHA_256"',
    );
  }
  const aad =
    base64Field(body, 'additionalAuthenticatedData', {
      required: false,
      maxBytes: MAX_AAD_BYTES,
      minBytes: 0,
      invalid: 'ValidationException',
      tooLarge: 'UnsupportedOperationException',
    }) ?? Buffer.alloc(0);
  call.aadSha256 = auditDigest(aad);
  const plaintext = base64Field(body, 'plaintext', {
    required: true,
    maxBytes: MAX_PLAINTEXT_BYTES,
    invalid: 'ValidationException',
    tooLarge: 'UnsupportedOperationException',
  }) as Buffer;
  try {
    let integrity: string | undefined;
    // Appendix C: the CDIV first, then a decrypt of exactly what is returned (in the HSM call).
    const computeIntegrity =
      wantsIntegrity === undefined
        ? undefined
        : (sealed: GcmSealed) => {
            integrity = integrityValue(
              aad,
              CIPHERTEXT_METADATA,
              sealed.iv,
              sealed.ciphertext,
              sealed.tag,
            );
          };
    const sealed = await withinBudget(
      backend.gcm.encrypt(
        rule.label,
        plaintext,
        hsmAad(aad, CIPHERTEXT_METADATA),
        computeIntegrity,
      ),
    );
    call.ciphertextSha256 = auditDigest(Buffer.concat([sealed.iv, sealed.ciphertext, sealed.tag]));
    return {
      ciphertext: sealed.ciphertext.toString('base64'),
      ciphertextMetadata: CIPHERTEXT_METADATA.toString('base64'),
      initializationVector: sealed.iv.toString('base64'),
      authenticationTag: sealed.tag.toString('base64'),
      ...(integrity === undefined ? {} : { ciphertextDataIntegrityValue: integrity }),
    };
  } finally {
    plaintext.fill(0);
  }
}

async function decrypt(
  rule: XksKeyRule,
  body: Record<string, unknown>,
  backend: XksBackend,
  call: XksCall,
): Promise<unknown> {
  requireAesGcm(body);
  const corrupt = 'InvalidCiphertextException' as const;
  const aad =
    base64Field(body, 'additionalAuthenticatedData', {
      required: false,
      maxBytes: MAX_AAD_BYTES,
      minBytes: 0,
      invalid: corrupt,
      tooLarge: 'UnsupportedOperationException',
    }) ?? Buffer.alloc(0);
  call.aadSha256 = auditDigest(aad);
  const ciphertext = base64Field(body, 'ciphertext', {
    required: true,
    maxBytes: MAX_PLAINTEXT_BYTES,
    invalid: corrupt,
    tooLarge: 'UnsupportedOperationException',
  }) as Buffer;
  const iv = base64Field(body, 'initializationVector', {
    required: true,
    maxBytes: 16,
    lengths: IV_LENGTHS_BYTES,
    invalid: corrupt,
    tooLarge: corrupt,
  }) as Buffer;
  const tag = base64Field(body, 'authenticationTag', {
    required: true,
    maxBytes: TAG_LENGTH_BYTES,
    lengths: new Set([TAG_LENGTH_BYTES]),
    invalid: corrupt,
    tooLarge: corrupt,
  }) as Buffer;
  call.ciphertextSha256 = auditDigest(Buffer.concat([iv, ciphertext, tag]));
  const metadata = base64Field(body, 'ciphertextMetadata', {
    required: false,
    maxBytes: MAX_METADATA_BYTES,
    invalid: corrupt,
    tooLarge: 'ValidationException',
  });
  if (!metadata?.equals(CIPHERTEXT_METADATA))
    throw new XksError(corrupt, 'the ciphertextMetadata is not one this proxy made');
  const plaintext = await withinBudget(
    backend.gcm.decrypt(rule.label, { iv, ciphertext, tag }, hsmAad(aad, metadata)),
  );
  const answer = { plaintext: plaintext.toString('base64') };
  plaintext.fill(0);
  return answer;
}

async function getHealthStatus(
  settings: XksSettings,
  backend: XksBackend,
  call: XksCall,
): Promise<unknown> {
  const facts = await withinBudget(backend.gcm.probe());
  if (settings.healthKeyLabel !== undefined) {
    // The spec's deep check: a round trip through the HSM on a key no KMS key uses.
    call.label = settings.healthKeyLabel;
    const sample = randomBytes(32);
    await withinBudget(
      backend.gcm.encrypt(settings.healthKeyLabel, sample, HEALTH_AAD, () => undefined),
    ).catch((error: unknown) => {
      // KeyNotFoundException is not an answer of GetHealthStatus (the spec's table).
      if (error instanceof HsmError && error.code === 'HSM_KEY_NOT_FOUND')
        throw new XksError('InternalException', 'the health check key is not on the HSM');
      throw error;
    });
  }
  return {
    xksProxyFleetSize: settings.fleetSize,
    xksProxyVendor: XKS_PROXY_VENDOR,
    xksProxyModel: XKS_PROXY_MODEL,
    ekmVendor: facts.manufacturer || 'unknown',
    ekmFleetDetails: [
      {
        id: facts.serialNumber || facts.label,
        model: `${facts.model || 'PKCS#11 token'} (firmware ${facts.firmware})`,
        healthStatus: 'ACTIVE',
      },
    ],
  };
}

/**
 * Runs one authenticated call and returns its JSON answer.
 * @throws XksError with the spec's name for every refusal; HSM failures pass through (the
 *   caller maps them with toXksError).
 */
export async function runXksCall(
  call: XksCall,
  body: Record<string, unknown>,
  settings: XksSettings,
  backend: XksBackend,
): Promise<unknown> {
  if (call.api === 'GetHealthStatus') {
    call.metadata = requestMetadata(body, { awsPrincipalArn: false, kmsKeyArn: false });
    return getHealthStatus(settings, backend, call);
  }
  const keyId = call.externalKeyId ?? '';
  const metadata = requestMetadata(body, {
    awsPrincipalArn: true,
    kmsKeyArn: call.api !== 'GetKeyMetadata',
  });
  call.metadata = metadata;
  if (call.api === 'GetKeyMetadata') {
    const rule = allowedKey(settings, keyId, metadata);
    call.label = rule.label;
    return getKeyMetadata(rule, backend);
  }
  const operation = call.api === 'Encrypt' ? 'ENCRYPT' : 'DECRYPT';
  const rule = allowedKey(settings, keyId, metadata, operation);
  call.label = rule.label;
  return call.api === 'Encrypt'
    ? encrypt(rule, body, backend, call)
    : decrypt(rule, body, backend, call);
}
