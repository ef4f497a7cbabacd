/**
 * [Note: owner-bound wrapped keys] The bytes the proxy hands out as a wrapped data key, and the
 * AAD the HSM authenticates with it.
 *
 * Version 2 binds every wrap to whom it was made for: the caller's `sub` (an owner-bound label)
 * or the group a label is shared with (a shared label, declared in the policy). The binding is
 * part of the AAD the HSM checks, so no proxy code path can open a wrap for anyone else:
 *
 *   offset  bytes  field
 *   0       2      magic "VH" (0x56 0x48)
 *   2       1      format version, 2
 *   3       1      binding kind: 1 = owner (a user's sub), 2 = group (a shared label's group)
 *   4       16     binding digest: SHA-256("veil-hsm-binding" 0x00 kind UTF-8(name)), first 16
 *   20      12     AES-GCM IV
 *   32      32     the data key, encrypted
 *   64      16     AES-GCM tag                                        (80 bytes in all)
 *
 *   HSM AAD = bytes 0..20 || u16be(len(name)) || UTF-8(name) || u32be(len(aad)) || aad
 *
 * The digest lets the proxy refuse someone else's wrap with a clear 403 before it asks the HSM;
 * the HSM's tag check over the full name is what enforces it. A version-1 ("legacy") wrap is
 * the bare 60 bytes `iv || ciphertext || tag` under the client's AAD alone, with no binding: the
 * lengths differ, so the two never mix up.
 */
import { createHash } from 'node:crypto';

export const MAGIC = Buffer.from('VH', 'latin1');
export const FORMAT_VERSION = 2;
export const PREFIX_BYTES = 20;
export const DIGEST_BYTES = 16;
/** The HSM's part of a wrap: iv (12) || ciphertext (32) || tag (16). */
export const SEALED_BYTES = 60;
/** A version-2 wrap: prefix (20) and the sealed key (60). */
export const BOUND_WRAPPED_BYTES = PREFIX_BYTES + SEALED_BYTES;
/** A legacy wrap, made before keys were bound to their owner. */
export const LEGACY_WRAPPED_BYTES = SEALED_BYTES;

/** Whom a wrap is for: one user (their `sub`) or the group that shares the label. */
export type Binding = { kind: 'owner'; name: string } | { kind: 'group'; name: string };

const KIND_BYTE = { owner: 1, group: 2 } as const;

/** A wrapped key as received: legacy (no binding) or version 2 with its binding's digest. */
export type ParsedWrap =
  | { version: 1; sealed: Buffer }
  | { version: 2; kind: Binding['kind']; digest: Buffer; sealed: Buffer };

/** The 16-byte digest of a binding that a version-2 wrap carries in clear. */
export function bindingDigest(binding: Binding): Buffer {
  return createHash('sha256')
    .update('veil-hsm-binding\0')
    .update(Buffer.from([KIND_BYTE[binding.kind]]))
    .update(binding.name, 'utf8')
    .digest()
    .subarray(0, DIGEST_BYTES);
}

/** The 20-byte header of a version-2 wrap for `binding`. */
export function wrapPrefix(binding: Binding): Buffer {
  return Buffer.concat([
    MAGIC,
    Buffer.from([FORMAT_VERSION, KIND_BYTE[binding.kind]]),
    bindingDigest(binding),
  ]);
}

/**
 * The AAD the HSM authenticates for a version-2 wrap: the prefix, the binding's name and the
 * client's AAD, each length-prefixed so no two inputs encode alike.
 * @throws RangeError when the name is over 65,535 bytes or the AAD over 2^32 - 1.
 */
export function boundAad(binding: Binding, clientAad: Buffer): Buffer {
  const name = Buffer.from(binding.name, 'utf8');
  if (name.length > 0xffff) throw new RangeError('binding name: at most 65,535 bytes');
  if (clientAad.length > 0xffffffff) throw new RangeError('aad: at most 2^32 - 1 bytes');
  const nameLength = Buffer.alloc(2);
  nameLength.writeUInt16BE(name.length);
  const aadLength = Buffer.alloc(4);
  aadLength.writeUInt32BE(clientAad.length);
  return Buffer.concat([wrapPrefix(binding), nameLength, name, aadLength, clientAad]);
}

/** A version-2 wrap: the prefix for `binding` and what the HSM sealed. */
export function boundWrap(binding: Binding, sealed: Buffer): Buffer {
  return Buffer.concat([wrapPrefix(binding), sealed]);
}

/**
 * Tells a legacy wrap from a version-2 one by its length and header; undefined for bytes that
 * are neither (the caller answers UNWRAP_FAILED).
 */
export function parseWrap(wrapped: Buffer): ParsedWrap | undefined {
  if (wrapped.length === LEGACY_WRAPPED_BYTES) return { version: 1, sealed: wrapped };
  if (wrapped.length !== BOUND_WRAPPED_BYTES) return undefined;
  if (!wrapped.subarray(0, 2).equals(MAGIC) || wrapped[2] !== FORMAT_VERSION) return undefined;
  const kind =
    wrapped[3] === KIND_BYTE.owner ? 'owner' : wrapped[3] === KIND_BYTE.group ? 'group' : undefined;
  if (!kind) return undefined;
  return {
    version: 2,
    kind,
    digest: wrapped.subarray(4, PREFIX_BYTES),
    sealed: wrapped.subarray(PREFIX_BYTES),
  };
}

/** SHA-256 of `bytes` as 32 hex digits (128 bits): what the audit log records instead of them. */
export function auditDigest(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 32);
}
