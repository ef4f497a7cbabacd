/**
 * [Note: untrusted text] Text read from a message header (encryption context, provider ids,
 * key names) is not authenticated until the header is opened, and whoever can write to a bucket
 * or hand over a file chooses it. Before such text reaches a terminal (error lines, `veil
 * inspect`) or the page (the Files details), its unsafe characters become visible `\uXXXX`
 * escapes: C0 and C1 controls (ESC and CSI drive terminals), DEL, the bidirectional marks,
 * embeddings, overrides and isolates (which reorder what is shown, e.g. `U+202E` turns
 * `cod.exe` into `exe.doc`), and the line and paragraph separators. One rule for every place
 * that shows such text: escapeUntrusted.
 */

/** Longest piece of untrusted text quoted in an error detail, in characters. */
const QUOTED_MAX_CHARS = 80;

/** True for C0/C1 controls, DEL, bidirectional controls and line/paragraph separators. */
function isUnsafeCodePoint(codePoint: number): boolean {
  return (
    codePoint < 0x20 ||
    (codePoint >= 0x7f && codePoint <= 0x9f) ||
    codePoint === 0x061c ||
    codePoint === 0x200e ||
    codePoint === 0x200f ||
    (codePoint >= 0x2028 && codePoint <= 0x202e) ||
    (codePoint >= 0x2066 && codePoint <= 0x2069)
  );
}

/**
 * `text` with every unsafe character ([Note: untrusted text]) written as a `\uXXXX` escape, so
 * it can be shown without driving a terminal or reordering what surrounds it. Everything else,
 * a backslash included, is kept as it is. Pure.
 */
export function escapeUntrusted(text: string): string {
  let escaped = '';
  for (const char of text) {
    const codePoint = char.codePointAt(0) ?? 0;
    escaped += isUnsafeCodePoint(codePoint)
      ? `\\u${codePoint.toString(16).padStart(4, '0')}`
      : char;
  }
  return escaped;
}

/**
 * `text` from an unauthenticated header, quoted for an error message: quotes and backslashes
 * escaped, unsafe characters escaped by escapeUntrusted, and long text cut short.
 */
export function quoteUntrusted(text: string): string {
  const cut = text.length > QUOTED_MAX_CHARS ? `${text.slice(0, QUOTED_MAX_CHARS)}…` : text;
  return `"${escapeUntrusted(cut.replace(/["\\]/g, (char) => `\\${char}`))}"`;
}
