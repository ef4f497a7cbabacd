/**
 * Who a wrap is for, and who may open it: the policy's side of [Note: owner-bound wrapped keys]
 * (wrapped-key.ts) and [Note: legacy wraps] (policy.ts). Pure decisions; the HSM does the
 * cryptography and enforces the binding through its AAD.
 */
import { ApiError } from './api-errors';
import type { Identity } from './auth';
import type { Policy } from './policy';
import { MAGIC, bindingDigest, boundAad, parseWrap, type Binding } from './wrapped-key';

/**
 * How a request was bound, as the audit log records it: `owner` (the caller's sub),
 * `group:<name>`, `legacy`, or `group` for a group wrap whose group was not resolved.
 */
export type AuditBinding = 'owner' | 'group' | `group:${string}` | 'legacy';

/** The audit form of a binding. */
export function auditBinding(binding: Binding | 'legacy'): AuditBinding {
  if (binding === 'legacy') return 'legacy';
  return binding.kind === 'owner' ? 'owner' : `group:${binding.name}`;
}

/**
 * The binding of a new wrap under `label`: the caller's sub for an owner-bound label, the
 * label's group for a shared one.
 * @throws ApiError NOT_IN_SHARING_GROUP when the label is shared with a group the caller is not in.
 */
export function bindingForWrap(policy: Policy, identity: Identity, label: string): Binding {
  const group = policy.sharedGroup(label);
  if (group === undefined) return { kind: 'owner', name: identity.sub };
  if (!identity.groups.includes(group)) {
    throw new ApiError(
      'NOT_IN_SHARING_GROUP',
      `the key "${label}" is shared with the group "${group}", which you are not in: ask an administrator`,
    );
  }
  return { kind: 'group', name: group };
}

/** What the HSM must be asked to open, and under which AAD. */
export interface UnwrapPlan {
  binding: Binding | 'legacy';
  /** iv || ciphertext || tag, as the HSM sealed it. */
  sealed: Buffer;
  hsmAad: Buffer;
}

/**
 * Decides whether the caller may open `wrapped` under `label`, before the HSM is asked.
 * @throws ApiError UNWRAP_FAILED for bytes that are no wrap; NOT_KEY_OWNER for another user's
 *   wrap; NOT_IN_SHARING_GROUP for a group wrap the caller may not open; LEGACY_WRAP_REFUSED for
 *   a legacy wrap under a label that no longer accepts them.
 */
export function planUnwrap(
  policy: Policy,
  identity: Identity,
  label: string,
  wrapped: Buffer,
  clientAad: Buffer,
): UnwrapPlan {
  const parsed = parseWrap(wrapped);
  if (!parsed) {
    throw new ApiError(
      'UNWRAP_FAILED',
      'the wrapped key is neither a legacy (60-byte) nor a version-2 (80-byte) wrap',
    );
  }
  if (parsed.version === 1) {
    if (!policy.acceptsLegacyWraps(label)) throw new ApiError('LEGACY_WRAP_REFUSED');
    // A shared label's legacy wraps open only for its group, like its bound ones.
    const group = policy.sharedGroup(label);
    if (group !== undefined && !identity.groups.includes(group)) {
      throw new ApiError('NOT_IN_SHARING_GROUP');
    }
    // Every bound AAD starts with the "VH" magic. A legacy AAD that did too could be a bound one
    // sent with a bound wrap cut down to 60 bytes: the HSM would open another user's key. A real
    // legacy AAD (a serialized encryption context) never starts so: it would claim 0x5648 pairs.
    if (clientAad.subarray(0, MAGIC.length).equals(MAGIC)) {
      throw new ApiError(
        'UNWRAP_FAILED',
        'this AAD belongs to an owner-bound wrap, not a legacy one',
      );
    }
    return { binding: 'legacy', sealed: parsed.sealed, hsmAad: clientAad };
  }
  let binding: Binding;
  if (parsed.kind === 'owner') {
    binding = { kind: 'owner', name: identity.sub };
    if (!bindingDigest(binding).equals(parsed.digest)) throw new ApiError('NOT_KEY_OWNER');
  } else {
    const group = policy.sharedGroup(label);
    binding = { kind: 'group', name: group ?? '' };
    if (
      group === undefined ||
      !identity.groups.includes(group) ||
      !bindingDigest(binding).equals(parsed.digest)
    ) {
      throw new ApiError('NOT_IN_SHARING_GROUP');
    }
  }
  return { binding, sealed: parsed.sealed, hsmAad: boundAad(binding, clientAad) };
}

/** What a wrap says about its binding, before any check: for the audit line of a refusal. */
export function describeWrap(wrapped: Buffer): AuditBinding | null {
  const parsed = parseWrap(wrapped);
  if (!parsed) return null;
  return parsed.version === 1 ? 'legacy' : parsed.kind;
}
