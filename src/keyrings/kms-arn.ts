/**
 * The four ways to name a KMS key (alias name, alias ARN, key id, key ARN), parsed without any
 * network call. Only a key ARN identifies a key for certain; the KMS keyring resolves the other
 * three with DescribeKey once (see [Note: KMS key names] in kms.ts).
 */
import { VeilError } from '../core/errors';
import { quoteUntrusted } from '../core/untrusted-text';

/** A parsed KMS key identifier. `region` is known only for the two ARN forms. */
export type KmsKeyName =
  | {
      readonly kind: 'key-arn';
      readonly text: string;
      readonly partition: string;
      readonly region: string;
      readonly accountId: string;
      /** The key id part (a UUID, or `mrk-...` for a multi-Region key). */
      readonly keyId: string;
    }
  | {
      readonly kind: 'alias-arn';
      readonly text: string;
      readonly partition: string;
      readonly region: string;
      readonly accountId: string;
      /** `alias/...` */
      readonly aliasName: string;
    }
  | { readonly kind: 'alias'; readonly text: string; readonly aliasName: string }
  | { readonly kind: 'key-id'; readonly text: string; readonly keyId: string };

const ARN = /^arn:(aws[a-z-]*):kms:([a-z]{2}(?:-[a-z]+)+-\d+):(\d{12}):(key|alias)\/(.+)$/;
const ALIAS = /^alias\/[A-Za-z0-9/_+=,.@-]+$/;
const KEY_ID =
  /^(?:mrk-[0-9a-f]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$/;

/**
 * Parses a KMS key identifier as a user or an EDK gives it.
 * @throws VeilError KMS_KEY_INVALID when it is none of the four forms (the text is not secret).
 */
export function parseKmsKeyName(text: string): KmsKeyName {
  if (typeof text !== 'string' || text.length === 0 || text.length > 2048) {
    throw new VeilError('KMS_KEY_INVALID', 'empty or overlong key identifier');
  }
  const arn = ARN.exec(text);
  if (arn) {
    const [, partition = '', region = '', accountId = '', type, resource = ''] = arn;
    if (type === 'key') {
      if (!KEY_ID.test(resource)) throw new VeilError('KMS_KEY_INVALID', quoteUntrusted(text));
      return { kind: 'key-arn', text, partition, region, accountId, keyId: resource };
    }
    const aliasName = `alias/${resource}`;
    if (!ALIAS.test(aliasName)) throw new VeilError('KMS_KEY_INVALID', quoteUntrusted(text));
    return { kind: 'alias-arn', text, partition, region, accountId, aliasName };
  }
  if (ALIAS.test(text)) return { kind: 'alias', text, aliasName: text };
  if (KEY_ID.test(text)) return { kind: 'key-id', text, keyId: text };
  // The text may come from a file's header: quoted, so it cannot drive a terminal.
  throw new VeilError('KMS_KEY_INVALID', quoteUntrusted(text));
}

/** The parsed key ARN, or undefined when `text` is not a key ARN (e.g. an EDK from elsewhere). */
export function asKeyArn(text: string): Extract<KmsKeyName, { kind: 'key-arn' }> | undefined {
  try {
    const name = parseKmsKeyName(text);
    return name.kind === 'key-arn' ? name : undefined;
  } catch {
    return undefined;
  }
}

/** The region named in an ARN form, undefined for an alias name or key id. */
export function regionOfKeyName(name: KmsKeyName): string | undefined {
  return name.kind === 'key-arn' || name.kind === 'alias-arn' ? name.region : undefined;
}
