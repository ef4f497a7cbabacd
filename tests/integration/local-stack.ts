/**
 * One local stack per test file: moto, a SoftHSM2 token in a temporary folder and the HSM proxy,
 * on free ports with a fresh bucket, started before the file's tests and stopped after them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { freePort } from '../../scripts/stack/process';
import {
  startStack,
  testBucketName,
  type Stack,
  type StackOptions,
} from '../../scripts/stack/stack';

export interface LocalStack {
  readonly stack: Stack;
  /** The temporary folder holding the token, policy, JWKS copy and audit log. */
  readonly dir: string;
}

export function useLocalStack(
  appOrigins: string[],
  options: Pick<StackOptions, 'hsmEnv'> = {},
): LocalStack {
  let stack: Stack | undefined;
  let dir: string | undefined;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'veil-it-'));
    stack = await startStack({
      dir,
      motoPort: await freePort(),
      hsmPort: await freePort(),
      appOrigins,
      bucket: testBucketName(),
      ...options,
    });
  });
  afterAll(async () => {
    await stack?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  return {
    get stack() {
      if (!stack) throw new Error('the local stack is not started yet');
      return stack;
    },
    get dir() {
      if (!dir) throw new Error('the local stack is not started yet');
      return dir;
    },
  };
}
