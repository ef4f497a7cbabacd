/**
 * The details of an object as the Files view shows them: the ESDK header as `veil inspect`
 * prints it (describeHeader in src/core/header-view.ts), plus what S3 says (size, ETag, metadata,
 * SSE). Plain objects say they are not encrypted by Veil or an ESDK. Every text from the header
 * or the metadata is escaped as `veil inspect` escapes it ([Note: untrusted text]). Pure.
 */
import { SUITE_DESCRIPTIONS, describeHeader } from '../../core/header-view';
import { suiteName } from '../../core/suites';
import { escapeUntrusted } from '../../core/untrusted-text';
import { keysNeeded, type OpenedObject } from '../../transfer/download';
import { modelOfProvider } from './download-keys';
import { MODEL_NAMES, type ModelId } from '../shared/protection';

/** The header as `veil inspect` prints it (the JSON object before stringifying). */
export const inspectView = describeHeader;

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

/** The pairs of `record`, escaped ([Note: untrusted text]) and sorted by name. */
const sortedEntries = (
  record: Readonly<Record<string, string>> | undefined,
): (readonly [string, string])[] =>
  Object.entries(record ?? {})
    .map(([name, value]) => [escapeUntrusted(name), escapeUntrusted(value)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

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
          providerId: escapeUntrusted(needed.providerId),
          keyName: escapeUntrusted(needed.keyName),
        };
      }),
      context: sortedEntries(header.encryptionContext),
      inspectJson: JSON.stringify(inspectView(header, false), null, 2),
    },
  };
}
