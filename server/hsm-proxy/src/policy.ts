/**
 * Which key labels each identity may use, who may create keys, and how each label binds its
 * wraps. Configured per user and per Cognito group; `*` allows every label. Deny by default: an
 * identity with no entry gets nothing.
 *
 * File format (JSON):
 *   { "groups": { "veil-users": ["veil-wrap-1", "team-docs"] },
 *     "users":  { "alice": ["alice-key"] },
 *     "admins": { "groups": ["veil-admins"], "users": [] },
 *     "labels": { "team-docs": { "sharedWithGroup": "team-a" },
 *                 "veil-wrap-1": { "legacyWraps": "accept" } } }
 *
 * A label is owner-bound unless `labels` shares it with a group: see [Note: owner-bound wrapped
 * keys] in wrapped-key.ts, and [Note: legacy wraps] below.
 *
 * [Note: legacy wraps] Wraps made before keys were bound to their owner record no owner, so the
 * proxy cannot tell whose they are: whoever may use the label can open them, as before. A label
 * accepts them only when its `legacyWraps` is "accept", or when the policy has no `labels`
 * section at all (a policy written for the earlier proxy, under which every wrap is legacy:
 * refusing them would lock every owner out of their files). Each such unwrap is audited with
 * binding "legacy". Rewrapping an object binds it to whoever rewraps it; once a label's objects
 * are rewrapped, set its `legacyWraps` to "refuse" (the default once `labels` exists).
 */
import type { Identity } from './auth';

/** How one label binds its wraps. */
export interface LabelRules {
  /** The group whose members share this label's wraps (team folders); unset: owner-bound. */
  sharedWithGroup?: string;
  /** Whether this label still opens legacy (unbound) wraps: see [Note: legacy wraps]. */
  legacyWraps?: 'accept' | 'refuse';
}

export interface PolicyDocument {
  groups?: Record<string, string[]>;
  users?: Record<string, string[]>;
  admins?: { groups?: string[]; users?: string[] };
  /** Per-label rules; absent in a policy written before wraps were bound (migration mode). */
  labels?: Record<string, LabelRules>;
}

export interface Policy {
  /** The labels `identity` may use (may contain `*`). */
  grants(identity: Identity): Set<string>;
  mayUse(identity: Identity, label: string): boolean;
  isAdmin(identity: Identity): boolean;
  /** The group a label is shared with, or undefined for an owner-bound label. */
  sharedGroup(label: string): string | undefined;
  /** Whether `label` opens legacy wraps ([Note: legacy wraps]). */
  acceptsLegacyWraps(label: string): boolean;
  /** True when the policy has no `labels` section, so every label accepts legacy wraps. */
  readonly migrationMode: boolean;
}

function stringList(value: unknown, path: string): string[] {
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new Error(`policy: ${path} must be a list of strings`);
  }
  return value;
}

function listMap(value: unknown, path: string): Record<string, string[]> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`policy: ${path} must be an object`);
  }
  return Object.fromEntries(
    Object.entries(value).map(([key, list]) => [key, stringList(list, `${path}.${key}`)]),
  );
}

function labelRules(value: unknown, path: string): LabelRules {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`policy: ${path} must be an object`);
  }
  const rules = value as Record<string, unknown>;
  const unknown = Object.keys(rules).filter((k) => k !== 'sharedWithGroup' && k !== 'legacyWraps');
  if (unknown.length > 0) {
    throw new Error(
      `policy: ${path} has unknown field "${unknown[0]}" (sharedWithGroup, legacyWraps)`,
    );
  }
  const { sharedWithGroup, legacyWraps } = rules;
  if (sharedWithGroup !== undefined && (typeof sharedWithGroup !== 'string' || !sharedWithGroup)) {
    throw new Error(`policy: ${path}.sharedWithGroup must be a group name`);
  }
  if (legacyWraps !== undefined && legacyWraps !== 'accept' && legacyWraps !== 'refuse') {
    throw new Error(`policy: ${path}.legacyWraps must be "accept" or "refuse"`);
  }
  return {
    ...(sharedWithGroup !== undefined ? { sharedWithGroup } : {}),
    ...(legacyWraps !== undefined ? { legacyWraps } : {}),
  };
}

/** @throws Error naming the first malformed entry. */
export function parsePolicy(raw: unknown): PolicyDocument {
  if (typeof raw !== 'object' || raw === null) throw new Error('policy: must be a JSON object');
  const doc = raw as Record<string, unknown>;
  const admins = (doc.admins ?? {}) as Record<string, unknown>;
  let labels: Record<string, LabelRules> | undefined;
  if (doc.labels !== undefined) {
    if (typeof doc.labels !== 'object' || doc.labels === null || Array.isArray(doc.labels)) {
      throw new Error('policy: labels must be an object');
    }
    labels = Object.fromEntries(
      Object.entries(doc.labels).map(([label, rules]) => [
        label,
        labelRules(rules, `labels.${label}`),
      ]),
    );
  }
  return {
    groups: listMap(doc.groups, 'groups'),
    users: listMap(doc.users, 'users'),
    admins: {
      groups: admins.groups === undefined ? [] : stringList(admins.groups, 'admins.groups'),
      users: admins.users === undefined ? [] : stringList(admins.users, 'admins.users'),
    },
    ...(labels ? { labels } : {}),
  };
}

export function createPolicy(doc: PolicyDocument): Policy {
  const has = (map: Record<string, string[]> | undefined, key: string): string[] =>
    map && Object.hasOwn(map, key) ? (map[key] ?? []) : [];
  const grants = (identity: Identity): Set<string> =>
    new Set([
      ...has(doc.users, identity.username),
      ...identity.groups.flatMap((group) => has(doc.groups, group)),
    ]);
  const rules = (label: string): LabelRules | undefined =>
    doc.labels && Object.hasOwn(doc.labels, label) ? doc.labels[label] : undefined;
  return {
    grants,
    sharedGroup: (label) => rules(label)?.sharedWithGroup,
    acceptsLegacyWraps: (label) =>
      doc.labels === undefined || rules(label)?.legacyWraps === 'accept',
    migrationMode: doc.labels === undefined,
    mayUse(identity, label) {
      const allowed = grants(identity);
      return allowed.has('*') || allowed.has(label);
    },
    isAdmin(identity) {
      return (
        (doc.admins?.users ?? []).includes(identity.username) ||
        identity.groups.some((group) => (doc.admins?.groups ?? []).includes(group))
      );
    },
  };
}
