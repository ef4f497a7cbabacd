/**
 * [Note: untrusted text] Text read from a message header (encryption context, provider ids,
 * key names) is not authenticated until the header is opened, and whoever can write to a bucket
 * or hand over a file chooses it. Before such text reaches a terminal (error lines, `veil
 * inspect`) or the page (the Files details, the download key advice), its unsafe characters
 * become visible escapes, `\uXXXX` (or `\u{XXXXX}` beyond U+FFFF):
 * - C0 and C1 controls and DEL (ESC and CSI drive terminals);
 * - the bidirectional marks, embeddings, overrides and isolates, which reorder what is shown
 *   (`U+202E` turns `cod.exe` into `exe.doc`), and the line and paragraph separators;
 * - invisible format characters, which make one name look like another: zero-width space,
 *   joiners and marks (U+200B..U+200F), word joiner and invisible operators (U+2060..U+2064),
 *   the deprecated format controls (U+206A..U+206F), the byte order mark (U+FEFF), the soft
 *   hyphen (U+00AD), the Mongolian vowel separator (U+180E), the tag characters
 *   (U+E0000..U+E007F) and the variation selectors (U+FE00..U+FE0F, U+E0100..U+E01EF).
 * A backslash is written `\\`, so text that spells an escape (`\u202e`) never looks like an
 * escaped character. One rule for every place that shows such text: escapeUntrusted.
 */

/** Longest piece of untrusted text quoted in an error detail, in characters. */
const QUOTED_MAX_CHARS = 80;

/** Inclusive code point ranges that are escaped ([Note: untrusted text]). */
const UNSAFE_RANGES: readonly (readonly [number, number])[] = [
  [0x0000, 0x001f], // C0 controls
  [0x007f, 0x009f], // DEL and C1 controls
  [0x00ad, 0x00ad], // soft hyphen
  [0x061c, 0x061c], // Arabic letter mark
  [0x180e, 0x180e], // Mongolian vowel separator
  [0x200b, 0x200f], // zero-width space, non-joiner, joiner; LRM, RLM
  [0x2028, 0x202e], // line/paragraph separators; bidi embeddings and overrides
  [0x2060, 0x206f], // word joiner, invisible operators, bidi isolates, deprecated format controls
  [0xfe00, 0xfe0f], // variation selectors
  [0xfeff, 0xfeff], // byte order mark (zero-width no-break space)
  [0xe0000, 0xe007f], // tag characters
  [0xe0100, 0xe01ef], // variation selectors supplement
];

/** True for a code point of UNSAFE_RANGES. */
function isUnsafeCodePoint(codePoint: number): boolean {
  return UNSAFE_RANGES.some(([first, last]) => codePoint >= first && codePoint <= last);
}

/** The visible escape of one code point: `\uXXXX`, or `\u{XXXXX}` beyond U+FFFF. */
function codePointEscape(codePoint: number): string {
  const hex = codePoint.toString(16);
  return codePoint > 0xffff ? `\\u{${hex}}` : `\\u${hex.padStart(4, '0')}`;
}

/**
 * `text` with every unsafe character ([Note: untrusted text]) written as a `\uXXXX` escape and
 * every backslash as `\\`, so it can be shown without driving a terminal, reordering what
 * surrounds it or passing for other text. Everything else is kept as it is. Pure.
 */
export function escapeUntrusted(text: string): string {
  let escaped = '';
  for (const char of text) {
    const codePoint = char.codePointAt(0) ?? 0;
    if (char === '\\') escaped += '\\\\';
    else if (isUnsafeCodePoint(codePoint)) escaped += codePointEscape(codePoint);
    else escaped += char;
  }
  return escaped;
}

/**
 * `text` with every unsafe character written as a `\uXXXX` escape, backslashes left as they
 * are: for a whole line that may hold pieces already escaped by escapeUntrusted (which must not
 * be escaped twice) and pieces no one escaped, such as an error code a server chose. Pure.
 */
export function escapeUnsafeCharacters(text: string): string {
  let escaped = '';
  for (const char of text) {
    const codePoint = char.codePointAt(0) ?? 0;
    escaped += isUnsafeCodePoint(codePoint) ? codePointEscape(codePoint) : char;
  }
  return escaped;
}

/**
 * `text` from an unauthenticated header, quoted for an error message: long text cut short,
 * escaped by escapeUntrusted (backslashes included), and its double quotes written `\"`.
 */
export function quoteUntrusted(text: string): string {
  const cut = text.length > QUOTED_MAX_CHARS ? `${text.slice(0, QUOTED_MAX_CHARS)}…` : text;
  // The escapes escapeUntrusted writes hold no `"`, so every `"` left came from the text.
  return `"${escapeUntrusted(cut).replace(/"/g, '\\"')}"`;
}
