/**
 * SigV4 verification of XKS requests (the spec's "Authentication" and Appendix A): KMS signs
 * every request with an access key id and secret configured both in KMS and here, for the
 * service `kms-xks-proxy` in its own region, with at least `host;x-amz-date` signed.
 *
 * [Note: SigV4 by recomputation] The signature is not checked by hand-written code: the proxy
 * rebuilds the request from the signed headers only, signs it again with the AWS SDK's
 * `@smithy/signature-v4` under the secret the access key id names, at the request's own
 * X-Amz-Date, and compares the two signatures in constant time. What the library does not
 * decide is checked here: the scope (date, region, service), the 5-minute clock skew the spec
 * asks for, and that a signed `x-amz-content-sha256` is the body's real hash (the library trusts
 * that header instead of hashing the body).
 */
import { createHash, createHmac, timingSafeEqual, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { XksCredential } from './config';
import { XksError } from './errors';

/** The service name in the credential scope of every XKS request. */
export const XKS_SIGNING_SERVICE = 'kms-xks-proxy';
/** Requests dated further than this from the proxy's clock are refused (the spec's 5 minutes). */
export const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

/** What the signer hashes (its SourceData). */
type SourceData = string | ArrayBuffer | ArrayBufferView;

/** SHA-256 and HMAC-SHA-256 from node:crypto in the shape the signer takes (its Checksum). */
class NodeSha256 {
  readonly #secret: SourceData | undefined;
  #hash: Hash | Hmac;
  constructor(secret?: SourceData) {
    this.#secret = secret;
    this.#hash = this.#fresh();
  }
  #fresh(): Hash | Hmac {
    return this.#secret === undefined
      ? createHash('sha256')
      : createHmac('sha256', toBytes(this.#secret));
  }
  update(data: Uint8Array): void {
    this.#hash.update(data);
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(this.#hash.digest());
  }
  reset(): void {
    this.#hash = this.#fresh();
  }
}

function toBytes(data: SourceData): Uint8Array {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data))
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

/** The parts of a request the signature covers, as the server received them. */
export interface ReceivedRequest {
  method: string;
  /** The raw path, without the query. */
  path: string;
  query: Record<string, string | string[]>;
  /** Lower-cased header names, as node:http gives them. */
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

interface ParsedAuthorization {
  accessKeyId: string;
  scopeDate: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^/\s,]+)\/(\d{8})\/([^/\s,]+)\/([^/\s,]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;

const refuse = (message: string): XksError =>
  new XksError('AuthenticationFailedException', message);

function parseAuthorization(value: string | string[] | undefined): ParsedAuthorization {
  if (value === undefined) throw refuse('the request is not signed (no Authorization header)');
  const match = typeof value === 'string' ? AUTHORIZATION.exec(value) : null;
  if (!match) throw refuse('the Authorization header is not an AWS4-HMAC-SHA256 signature');
  const [, accessKeyId, scopeDate, region, service, signedHeaders, signature] =
    match as unknown as [string, string, string, string, string, string, string];
  return {
    accessKeyId,
    scopeDate,
    region,
    service,
    signedHeaders: signedHeaders.split(';'),
    signature,
  };
}

/** Parses an X-Amz-Date (`YYYYMMDD'T'HHMMSS'Z'`). */
function amzDate(value: string | string[] | undefined): Date {
  const match =
    typeof value === 'string' ? /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value) : null;
  if (!match) throw refuse('the request has no valid X-Amz-Date header');
  const [, y, mo, d, h, mi, s] = match.map(Number) as [number, ...number[]];
  return new Date(Date.UTC(y ?? 0, (mo ?? 1) - 1, d, h, mi, s));
}

/** One signer per credential and region; a reload makes new credential objects, and new signers. */
const signers = new WeakMap<XksCredential, { region: string; signer: SignatureV4 }>();

function signerFor(credential: XksCredential, region: string): SignatureV4 {
  const cached = signers.get(credential);
  if (cached?.region === region) return cached.signer;
  const signer = new SignatureV4({
    service: XKS_SIGNING_SERVICE,
    region,
    credentials: {
      accessKeyId: credential.accessKeyId,
      secretAccessKey: credential.secretAccessKey,
    },
    sha256: NodeSha256,
    applyChecksum: false,
  });
  signers.set(credential, { region, signer });
  return signer;
}

/**
 * Verifies the request's SigV4 signature and returns the access key id that signed it.
 * @param credentials the valid credentials by access key id (two during a rotation).
 * @param nowMs the proxy's clock.
 * @throws XksError AuthenticationFailedException when the request is unsigned, signed for
 *   another scope or with an unknown or wrong secret, altered after signing, or dated more than
 *   five minutes from `nowMs`.
 */
export async function verifySigV4(
  request: ReceivedRequest,
  credentials: ReadonlyMap<string, XksCredential>,
  region: string,
  nowMs = Date.now(),
): Promise<string> {
  const auth = parseAuthorization(request.headers.authorization);
  const credential = credentials.get(auth.accessKeyId);
  if (!credential) throw refuse('the access key id is not one this proxy accepts');
  if (auth.service !== XKS_SIGNING_SERVICE)
    throw refuse(
      `the signature is for the service "${auth.service}", not "${XKS_SIGNING_SERVICE}"`,
    );
  if (auth.region !== region) throw refuse(`the signature is for another region than ${region}`);
  for (const required of ['host', 'x-amz-date']) {
    if (!auth.signedHeaders.includes(required))
      throw refuse(`the signature must cover ${required}`);
  }
  const signedAt = amzDate(request.headers['x-amz-date']);
  if (Math.abs(nowMs - signedAt.getTime()) > MAX_CLOCK_SKEW_MS) {
    throw refuse(
      'X-Amz-Date is more than 5 minutes from the proxy clock: expired, replayed, or clocks drift',
    );
  }
  if (signedAt.toISOString().slice(0, 10).replaceAll('-', '') !== auth.scopeDate)
    throw refuse('the credential scope date is not the date of X-Amz-Date');

  const headers: Record<string, string> = {};
  for (const name of auth.signedHeaders) {
    const value = request.headers[name];
    if (value === undefined) throw refuse(`the signed header ${name} is missing`);
    headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const declaredHash = headers['x-amz-content-sha256'];
  if (
    declaredHash !== undefined &&
    declaredHash !== createHash('sha256').update(request.body).digest('hex')
  )
    throw refuse('x-amz-content-sha256 is not the hash of the body');

  const signed = await signerFor(credential, region).sign(
    {
      method: request.method,
      protocol: 'https:',
      hostname: String(headers.host ?? ''),
      path: request.path,
      query: request.query,
      headers,
      body: request.body,
    },
    { signingDate: signedAt, signableHeaders: new Set(auth.signedHeaders) },
  );
  const expected = AUTHORIZATION.exec(String(signed.headers.authorization ?? ''));
  const expectedSignature = Buffer.from(expected?.[6] ?? '', 'hex');
  const given = Buffer.from(auth.signature, 'hex');
  if (
    expected?.[5] !== auth.signedHeaders.join(';') ||
    expectedSignature.length !== given.length ||
    !timingSafeEqual(expectedSignature, given)
  ) {
    throw refuse(
      'the signature does not match: wrong secret, or the request changed after signing',
    );
  }
  return auth.accessKeyId;
}
