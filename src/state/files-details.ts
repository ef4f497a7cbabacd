/**
 * The details of an object as the Files view shows them: the ESDK header as `veil inspect`
 * prints it (same fields and names as describeHeader in src/cli/inspect.ts, which runs on Node
 * and cannot be bundled), plus what S3 says (size, ETag, metadata, SSE). Plain objects say they
 * are not encrypted by Veil or an ESDK. Pure.
 */
import { readU32, toBase64 } from '../core/bytes';
import type { MessageHeader } from '../core/header';
import type { EncryptedDataKey } from '../core/keyring';
import { suiteName } from '../core/suites';
import { keysNeeded, type OpenedObject } from '../transfer/download';
import { modelOfProvider } from './download-keys';
import { MODEL_NAMES, type ModelId } from './protection';

const SUITE_DESCRIPTIONS: Readonly<Record<number, string>> = {
  0x0478: 'AES-256-GCM, HKDF-SHA512, key commitment',
  0x0578: 'AES-256-GCM, HKDF-SHA512, key commitment, ECDSA P-384 signature',
};

function describeEdk(edk: EncryptedDataKey): Record<string, unknown> {
  const info = edk.providerInfo;
  const out: Record<string, unknown> = {
    providerId: edk.providerId,
    providerInfo: toBase64(info),
    ciphertextBytes: edk.ciphertext.length,
  };
  const nameBytes = info.length - 20;
  if (nameBytes > 0 && readU32(info, nameBytes) === 128 && readU32(info, nameBytes + 4) === 12) {
    out.rawAesKeyName = new TextDecoder().decode(info.subarray(0, nameBytes));
  } else {
    try {
      out.providerInfoText = new TextDecoder('utf-8', { fatal: true }).decode(info);
    } catch {
      // Binary provider info: the base64 above is all there is to show.
    }
  }
  return out;
}

/** The header as `veil inspect` prints it (the JSON object before stringifying). */
export function inspectView(
  header: MessageHeader,
  authenticated: boolean,
): Record<string, unknown> {
  return {
    version: header.version,
    suiteId: suiteName(header.suiteId),
    suite: SUITE_DESCRIPTIONS[header.suiteId],
    messageId: toBase64(header.messageId),
    encryptionContext: { ...header.encryptionContext },
    encryptedDataKeys: header.encryptedDataKeys.map(describeEdk),
    contentType: header.contentType,
    frameBytes: header.frameBytes,
    headerBytes: header.headerBytes,
    headerAuthenticated: authenticated,
  };
}

/** One encrypted copy of the data key, for display. */
export interface KeyCopy {
  readonly model: ModelId;
  readonly modelName: string;
  readonly providerId: string;
  /** Raw AES key name, HSM label or KMS key ARN. */
  readonly keyName: string;
}

/** What the details dialog shows. */
export interface ObjectDetails {
  readonly key: string;
  readonly objectBytes: number;
  readonly etag: string;
  readonly metadata: readonly (readonly [string, string])[];
  readonly serverSideEncryption: string | undefined;
  /** 'plain': not an ESDK message (downloads as it is). */
  readonly format: 'plain' | 'esdk';
  /** ESDK objects only. */
  readonly header?: {
    readonly suiteId: string;
    readonly suite: string;
    readonly contentType: string;
    readonly frameBytes: number;
    readonly keys: readonly KeyCopy[];
    readonly context: readonly (readonly [string, string])[];
    /** Pretty JSON as `veil inspect` prints it. */
    readonly inspectJson: string;
  };
}

const sortedEntries = (
  record: Readonly<Record<string, string>> | undefined,
): (readonly [string, string])[] =>
  Object.entries(record ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

/** The details of an object from inspectObject (header only, not authenticated). */
export function objectDetails(
  key: string,
  opened: Pick<OpenedObject, 'objectBytes' | 'etag' | 'metadata' | 'header'>,
  serverSideEncryption?: string,
): ObjectDetails {
  const base = {
    key,
    objectBytes: opened.objectBytes,
    etag: opened.etag.replace(/^"|"$/g, ''),
    metadata: sortedEntries(opened.metadata),
    serverSideEncryption,
  };
  const header = opened.header;
  if (!header) return { ...base, format: 'plain' };
  return {
    ...base,
    format: 'esdk',
    header: {
      suiteId: suiteName(header.suiteId),
      suite: SUITE_DESCRIPTIONS[header.suiteId] ?? 'unknown suite',
      contentType: header.contentType,
      frameBytes: header.frameBytes,
      keys: keysNeeded(header).map((needed) => {
        const model = modelOfProvider(needed.providerId);
        return {
          model,
          modelName: MODEL_NAMES[model],
          providerId: needed.providerId,
          keyName: needed.keyName,
        };
      }),
      context: sortedEntries(header.encryptionContext),
      inspectJson: JSON.stringify(inspectView(header, false), null, 2),
    },
  };
}
