/**
 * The build hash the production build writes into index.html (see [Note: verifiable build] in
 * scripts/build/verifiable-build.ts), for the footer.
 */

/** The build hash (`sha256-<hex>`) of the page's build, or undefined in development. */
export function buildHash(doc: Document = document): string | undefined {
  const content = doc.querySelector('meta[name="veil-build-hash"]')?.getAttribute('content');
  return content && /^sha256-[0-9a-f]{64}$/.test(content) ? content : undefined;
}

/** The short form shown to people: the first 12 hex digits. */
export function shortBuildHash(hash: string): string {
  return hash.slice('sha256-'.length, 'sha256-'.length + 12);
}
