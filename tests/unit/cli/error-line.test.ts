/**
 * The command line's error lines: the catalogue code first, the CLI's own words for the codes
 * whose catalogue text speaks of the page (CORS, Settings), the detail kept, and system errors as
 * IO_FAILED.
 */
import { describe, expect, test } from 'vitest';
import { errorLine } from '../../../src/cli/error-line';
import { VeilError } from '../../../src/core/errors';

describe('errorLine', () => {
  test('S3_UNREACHABLE speaks of the endpoint and the network, not of a page or CORS', () => {
    const line = errorLine(new VeilError('S3_UNREACHABLE', 'PutObject'));
    expect(line).toMatch(/^S3_UNREACHABLE: /);
    expect(line).toContain('--endpoint-url');
    expect(line).toContain('(PutObject)');
    expect(line).not.toMatch(/page|CORS|Settings/);
  });

  test('credential codes point to the environment the AWS SDK reads', () => {
    for (const code of [
      'CREDENTIALS_EXPIRED',
      'CREDENTIALS_INVALID',
      'CREDENTIALS_MISSING',
    ] as const) {
      const line = errorLine(new VeilError(code));
      expect(line.startsWith(`${code}: `)).toBe(true);
      expect(line).toContain('AWS_');
      expect(line).not.toContain('Settings');
    }
  });

  test('other codes keep the catalogue text; system errors are IO_FAILED', () => {
    const tampered = new VeilError('FRAME_TAMPERED', 'frame 3');
    expect(errorLine(tampered)).toBe(`FRAME_TAMPERED: ${tampered.message}`);
    const enoent = Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' });
    expect(errorLine(enoent)).toBe('IO_FAILED: ENOENT: no such file');
    expect(errorLine(new Error('boom'))).toBe('INTERNAL_ERROR: boom');
  });

  test('what a server or a file chose cannot drive the terminal: controls and bidi escaped', () => {
    // An S3 error code from a hostile link host: clears the line, prints a green fake success.
    const hostile = '\u001b]0;OWNED\u0007\u001b[2K\r\u001b[32mdownloaded (verified)\u001b[8m';
    const line = errorLine(new VeilError('S3_REJECTED', `download: ${hostile}\u202e`));
    expect(line).toMatch(/^S3_REJECTED: /);
    const unsafe = [...line].filter((char) => {
      const code = char.codePointAt(0) ?? 0;
      return code < 0x20 || (code >= 0x7f && code <= 0x9f) || (code >= 0x202a && code <= 0x202e);
    });
    expect(unsafe).toEqual([]);
    expect(line).toContain('\\u001b[32mdownloaded (verified)');
    expect(line).toContain('\\u202e');
    // Escapes already made by quoteUntrusted are not escaped twice; a plain backslash stays.
    expect(errorLine(new VeilError('FRAME_TAMPERED', 'a \\u202e b'))).toContain('a \\u202e b');
    expect(errorLine(new Error('bad\nline'))).toBe('INTERNAL_ERROR: bad\\u000aline');
  });
});
