/**
 * Finds file and folder names in requests: the names audit of the private-names spec
 * (tests/e2e/ui-private-names.spec.ts). A name is looked for in the request line, the headers and
 * the body as sent (bytes read as Latin-1 and as UTF-8), in the percent-decoded target (with `+`
 * as a space, as S3 and query strings allow), case-insensitively, in NFC and NFD. Names are
 * best given a random token (e.g. `report-9f2c41d7.txt`): searching for the token finds the name
 * in any of these forms, and a hit cannot be chance.
 */

/** One request as a recorder saw it (the recording proxy, or the browser's request events). */
export interface NamedRequest {
  readonly origin: string;
  readonly method: string;
  /** Path and query, as sent. */
  readonly target: string;
  /** Header lines, `name: value`. */
  readonly headerText: string;
  readonly body: Uint8Array;
}

/** A name found in a request, and where. */
export interface NameHit {
  readonly needle: string;
  readonly request: string;
  readonly view: 'target' | 'decoded target' | 'headers' | 'body';
}

function decoded(target: string): string {
  try {
    return decodeURIComponent(target.replace(/\+/g, ' '));
  } catch {
    return target;
  }
}

/** The text views of a request, lower-cased, each in NFC. */
function views(request: NamedRequest): [NameHit['view'], string][] {
  const body = Buffer.from(request.body);
  const text = (value: string): string => value.normalize('NFC').toLowerCase();
  return [
    ['target', text(request.target)],
    ['decoded target', text(decoded(request.target))],
    ['headers', text(`${request.headerText}\n${decoded(request.headerText)}`)],
    ['body', text(`${body.toString('latin1')}\n${body.toString('utf8')}`)],
  ];
}

/** Every place a needle (a name or a name's token) shows in `requests`. */
export function findNames(
  requests: readonly NamedRequest[],
  needles: readonly string[],
): NameHit[] {
  const wanted = needles.flatMap((needle) => [
    needle.normalize('NFC').toLowerCase(),
    encodeURIComponent(needle.normalize('NFC')).toLowerCase(),
    encodeURIComponent(needle.normalize('NFD')).toLowerCase(),
  ]);
  const hits: NameHit[] = [];
  for (const request of requests) {
    for (const [view, text] of views(request)) {
      for (const needle of wanted) {
        if (text.includes(needle)) {
          hits.push({
            needle,
            request: `${request.method} ${request.origin}${request.target}`,
            view,
          });
        }
      }
    }
  }
  return hits;
}
