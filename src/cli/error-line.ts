/**
 * How the command line reports a failure: one line for stderr that starts with the catalogue
 * code, never key material. Most catalogue texts serve the app and the CLI alike; the few that
 * speak of the page (its CORS rules, Settings, signing in) get the command line's own words
 * here, so a CLI user is told what to do in a terminal.
 */
import { VeilError, type ErrorCode } from '../core/errors';
import { escapeUnsafeCharacters } from '../core/untrusted-text';

/** The command line's words for the codes whose catalogue text speaks of the page. */
const CLI_WORDING: Partial<Record<ErrorCode, string>> = {
  S3_UNREACHABLE:
    'S3 could not be reached: the network is down or the endpoint is wrong. Check the connection, --endpoint-url (or AWS_ENDPOINT_URL) and --region, then run the command again; an upload keeps its finished parts and resumes where it stopped.',
  CREDENTIALS_EXPIRED:
    'Your AWS credentials have expired. Renew them (aws sso login, or fresh AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN) and run the command again.',
  CREDENTIALS_INVALID:
    'AWS did not accept these credentials (unknown access key or wrong secret). Check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE.',
  CREDENTIALS_MISSING:
    'No AWS credentials are available. Set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE, as for the AWS CLI.',
  NAMES_KEY_UNREADABLE:
    'The names key of this location could not be opened with the keys given, so file names cannot be read or written. Give the key it was encrypted with (--key-file, --hsm-proxy or --kms-key) and run the command again; the names key object and the reason follow. Nothing was written.',
};

/** The message of `error` as the command line says it. */
function cliMessage(error: VeilError): string {
  const words = CLI_WORDING[error.code];
  if (words === undefined) return error.message;
  return error.detail ? `${words} (${error.detail})` : words;
}

/**
 * One line for stderr that starts with the error code; never key material. Control,
 * bidirectional and invisible characters are escaped: a detail can carry what a server or a
 * file chose (an S3 error code from a link's host, a header's key name), and an escape sequence
 * there would let it rewrite the terminal ([Note: untrusted text] in core/untrusted-text.ts).
 */
export function errorLine(error: unknown): string {
  return escapeUnsafeCharacters(rawErrorLine(error));
}

function rawErrorLine(error: unknown): string {
  if (error instanceof VeilError) return `${error.code}: ${cliMessage(error)}`;
  const systemCode = (error as { code?: unknown } | null)?.code;
  if (typeof systemCode === 'string' && /^E[A-Z]+$/.test(systemCode)) {
    const message = error instanceof Error ? error.message : String(error);
    return `IO_FAILED: ${message}`;
  }
  const message = error instanceof Error ? error.message : String(error);
  return `INTERNAL_ERROR: ${message}`;
}
