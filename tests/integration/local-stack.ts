/**
 * The local stack for integration tests: moto, a SoftHSM2 token in a temporary folder and the HSM
 * proxy, on free ports with a fresh bucket. `useLocalStack` starts one before a file's tests and
 * stops it after them.
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
  /** Stops every process and removes the folder. */
  stop(): Promise<void>;
}

/** Starts a stack in a new temporary folder; the folder is removed again if the start fails. */
export async function startLocalStack(
  appOrigins: string[],
  options: Pick<StackOptions, 'hsmEnv'> = {},
): Promise<LocalStack> {
  const dir = await mkdtemp(join(tmpdir(), 'veil-it-'));
  try {
    const stack = await startStack({
      dir,
      motoPort: await freePort(),
      hsmPort: await freePort(),
      appOrigins,
      bucket: testBucketName(),
      ...options,
    });
    return {
      stack,
      dir,
      stop: async () => {
        await stack.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** A stack started before the calling file's tests and stopped after them. */
export function useLocalStack(
  appOrigins: string[],
  options: Pick<StackOptions, 'hsmEnv'> = {},
): Omit<LocalStack, 'stop'> {
  let local: LocalStack | undefined;
  beforeAll(async () => {
    local = await startLocalStack(appOrigins, options);
  });
  afterAll(async () => {
    await local?.stop();
  });
  const started = (): LocalStack => {
    if (!local) throw new Error('the local stack is not started yet');
    return local;
  };
  return {
    get stack() {
      return started().stack;
    },
    get dir() {
      return started().dir;
    },
  };
}
