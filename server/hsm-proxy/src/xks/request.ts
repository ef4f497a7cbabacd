/**
 * Reading XKS request bodies: the requestMetadata every call carries, and the base64 fields of
 * Encrypt and Decrypt, each refused with the error the spec gives for it.
 */
import { XksError, type XksErrorName } from './errors';

/** KMS's context for one call (the spec's requestMetadata; Appendix B allows more fields later). */
export interface XksRequestMetadata {
  awsPrincipalArn?: string;
  awsSourceVpc?: string;
  awsSourceVpce?: string;
  kmsKeyArn?: string;
  kmsOperation: string;
  kmsRequestId: string;
  kmsViaService?: string;
}

/** ARNs may be 2,048 characters (the spec); no metadata string is accepted beyond that. */
const MAX_METADATA_CHARS = 2048;
const OPTIONAL_FIELDS = ['awsSourceVpc', 'awsSourceVpce', 'kmsViaService'] as const;

function text(
  source: Record<string, unknown>,
  field: string,
  required: boolean,
): string | undefined {
  const value = source[field];
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_METADATA_CHARS) {
    throw new XksError(
      'ValidationException',
      `requestMetadata.${field} must be a string of 1 to ${MAX_METADATA_CHARS} characters`,
    );
  }
  return value;
}

/**
 * The requestMetadata of a call. kmsOperation and kmsRequestId are opaque: any value passes
 * (the spec forbids rejecting an unknown operation or checking the id's structure).
 * @param needs the fields this API requires besides kmsOperation and kmsRequestId.
 * @throws XksError ValidationException when it is missing or a field is malformed.
 */
export function requestMetadata(
  body: Record<string, unknown>,
  needs: { awsPrincipalArn: boolean; kmsKeyArn: boolean },
): XksRequestMetadata {
  const raw = body.requestMetadata;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new XksError('ValidationException', 'requestMetadata must be an object');
  const source = raw as Record<string, unknown>;
  const metadata: XksRequestMetadata = {
    kmsOperation: text(source, 'kmsOperation', true) ?? '',
    kmsRequestId: text(source, 'kmsRequestId', true) ?? '',
  };
  const principal = text(source, 'awsPrincipalArn', needs.awsPrincipalArn);
  if (principal !== undefined) metadata.awsPrincipalArn = principal;
  const keyArn = text(source, 'kmsKeyArn', needs.kmsKeyArn);
  if (keyArn !== undefined) metadata.kmsKeyArn = keyArn;
  for (const field of OPTIONAL_FIELDS) {
    const value = text(source, field, false);
    if (value !== undefined) metadata[field] = value;
  }
  return metadata;
}

/** How a base64 field is refused: when malformed or missing, and when over its size. */
export interface FieldRules {
  required: boolean;
  maxBytes: number;
  /** For a field that is missing, not base64, or of a length not in `lengths`. */
  invalid: XksErrorName;
  /** For a field over maxBytes: UnsupportedOperationException for the spec's sizes. */
  tooLarge: XksErrorName;
  /** The only lengths allowed (an IV, a tag); unset: minBytes (default 1) to maxBytes. */
  lengths?: ReadonlySet<number>;
  minBytes?: number;
}

/**
 * A standard base64 field (RFC 4648 section 4), decoded.
 * @returns undefined for an absent optional field.
 * @throws XksError per `rules`.
 */
export function base64Field(
  body: Record<string, unknown>,
  field: string,
  rules: FieldRules,
): Buffer | undefined {
  const value = body[field];
  if (value === undefined && !rules.required) return undefined;
  if (
    typeof value !== 'string' ||
    value.length % 4 !== 0 ||
    !/^[A-Za-z0-9+/]*={0,2}$/.test(value)
  ) {
    throw new XksError(rules.invalid, `${field} must be standard base64`);
  }
  // Checked before decoding, so an oversized field costs no allocation.
  if ((value.length / 4) * 3 - (value.match(/=+$/)?.[0].length ?? 0) > rules.maxBytes) {
    throw new XksError(rules.tooLarge, `${field} is limited to ${rules.maxBytes} bytes`);
  }
  const bytes = Buffer.from(value, 'base64');
  const minBytes = rules.minBytes ?? 1;
  const lengthOk = rules.lengths ? rules.lengths.has(bytes.length) : bytes.length >= minBytes;
  if (!lengthOk) {
    throw new XksError(
      rules.invalid,
      rules.lengths
        ? `${field} must be ${[...rules.lengths].join(' or ')} bytes`
        : `${field} must not be empty`,
    );
  }
  return bytes;
}

/** The encryptionAlgorithm field: the spec's v1 knows only AES_GCM. */
export function requireAesGcm(body: Record<string, unknown>): void {
  if (body.encryptionAlgorithm !== 'AES_GCM')
    throw new XksError('ValidationException', 'encryptionAlgorithm must be "AES_GCM"');
}
