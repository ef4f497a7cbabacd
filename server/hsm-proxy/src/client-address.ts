/**
 * The client's address behind load balancers. `X-Forwarded-For` is believed only when the direct
 * peer is a configured trusted proxy (an ALB's subnets, say); then the list is read from the
 * right, skipping trusted hops, and the first untrusted address is the client. Any client can
 * write the header, so entries left of that one are ignored: a caller cannot pick its own
 * rate-limit bucket or audit address.
 */
import { BlockList, isIP } from 'node:net';

export interface TrustedProxies {
  /** True when `address` is a configured trusted proxy. */
  has(address: string): boolean;
  readonly size: number;
}

/** `::ffff:10.0.0.1` (an IPv4 peer on a dual-stack socket) as `10.0.0.1`. */
export function normalizeAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped?.[1] ?? address;
}

/**
 * Parses a comma-separated list of addresses and CIDR ranges (`10.0.0.0/16, 2001:db8::/32`).
 * @throws Error naming the first entry that is neither.
 */
export function parseTrustedProxies(text: string): TrustedProxies {
  const list = new BlockList();
  const entries = text
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  for (const entry of entries) {
    const [address = '', prefix, extra] = entry.split('/');
    const family = isIP(address);
    const bits = prefix === undefined ? undefined : Number(prefix);
    const maxBits = family === 6 ? 128 : 32;
    if (
      family === 0 ||
      extra !== undefined ||
      (bits !== undefined && (!Number.isInteger(bits) || bits < 0 || bits > maxBits))
    ) {
      throw new Error(
        `VEIL_HSM_TRUSTED_PROXIES: "${entry}" is not an IP address or CIDR range (e.g. 10.0.0.0/16)`,
      );
    }
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(address, type);
    else list.addSubnet(address, bits, type);
  }
  return {
    size: entries.length,
    has(address) {
      const normalized = normalizeAddress(address);
      const family = isIP(normalized);
      return family !== 0 && list.check(normalized, family === 6 ? 'ipv6' : 'ipv4');
    },
  };
}

/**
 * The client's address: the direct peer, or, when the peer is trusted, the rightmost
 * `X-Forwarded-For` entry that is not a trusted proxy (the leftmost entry when all are).
 * A malformed entry where the client should be counts as the client's address as written.
 */
export function clientAddress(
  peer: string | undefined,
  forwardedFor: string | string[] | undefined,
  trusted: TrustedProxies,
): string {
  const direct = normalizeAddress(peer ?? '');
  if (trusted.size === 0 || !trusted.has(direct) || forwardedFor === undefined) return direct;
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor)
    .split(',')
    .map((hop) => normalizeAddress(hop.trim()))
    .filter(Boolean);
  for (let index = hops.length - 1; index >= 0; index--) {
    const hop = hops[index] ?? '';
    if (!trusted.has(hop)) return hop;
  }
  return hops[0] ?? direct;
}
