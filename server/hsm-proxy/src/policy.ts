/**
 * Which key labels each identity may use, and who may create keys. Configured per user and per
 * Cognito group; `*` allows every label. Deny by default: an identity with no entry gets nothing.
 *
 * File format (JSON):
 *   { "groups": { "veil-users": ["veil-wrap-1"] },
 *     "users":  { "alice": ["alice-key"] },
 *     "admins": { "groups": ["veil-admins"], "users": [] } }
 */
import type { Identity } from './auth';

export interface PolicyDocument {
  groups?: Record<string, string[]>;
  users?: Record<string, string[]>;
  admins?: { groups?: string[]; users?: string[] };
}

export interface Policy {
  /** The labels `identity` may use (may contain `*`). */
  grants(identity: Identity): Set<string>;
  mayUse(identity: Identity, label: string): boolean;
  isAdmin(identity: Identity): boolean;
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

/** @throws Error naming the first malformed entry. */
export function parsePolicy(raw: unknown): PolicyDocument {
  if (typeof raw !== 'object' || raw === null) throw new Error('policy: must be a JSON object');
  const doc = raw as Record<string, unknown>;
  const admins = (doc.admins ?? {}) as Record<string, unknown>;
  return {
    groups: listMap(doc.groups, 'groups'),
    users: listMap(doc.users, 'users'),
    admins: {
      groups: admins.groups === undefined ? [] : stringList(admins.groups, 'admins.groups'),
      users: admins.users === undefined ? [] : stringList(admins.users, 'admins.users'),
    },
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
  return {
    grants,
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
