import { expect, test } from 'vitest';
import { parseKmsKeyName } from '../../../src/keyrings/kms-arn';

test('a malformed key name from a file is quoted in the error, so it cannot drive a terminal', () => {
  const hostile = 'arn:aws:kms:us-east-1:111122223333:key/\u001b]0;owned\u0007\u001b[2J';
  let detail: string | undefined;
  try {
    parseKmsKeyName(hostile);
  } catch (error) {
    detail = (error as { code?: string; detail?: string }).detail;
    expect((error as { code?: string }).code).toBe('KMS_KEY_INVALID');
  }
  expect(detail).toBeDefined();
  expect([...(detail ?? '')].some((char) => (char.codePointAt(0) ?? 0) < 0x20)).toBe(false);
  expect(detail).toContain('\\u001b');
});
