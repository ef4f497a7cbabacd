/**
 * The local stack for integration tests: moto, a SoftHSM2 token in a temporary folder and the HSM
 * proxy, on free ports with a fresh bucket. `useLocalStack` gives a file's tests the run's shared
 * stack with a bucket of their own, or starts one for them and stops it after them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { freePort } from '../../scripts/stack/process';
import {
  createFileBucket,
  motoS3,
  removeFileBucket,
  SHARED_ORIGINS,
  sharedStack,
} from './support/shared-stack';
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

/** The stack of a file: the run's shared one (with the file's own bucket) or one of its own. */
export interface FileStack {
  readonly stack: Omit<Stack, 'services' | 'stop'>;
  /** A temporary folder of the file's (the stack's own folder when the file has its own stack). */
  readonly dir: string;
}

/**
 * The stack for the calling file's tests: the run's shared stack with a fresh bucket of the
 * file's own, emptied and deleted after them ([Note: one stack per run]); or, with `own` or
 * `hsmEnv`, or in a project without a shared stack, a stack of its own started before them and
 * stopped after them. A file that asks for its own says why.
 */
export function useLocalStack(
  appOrigins: string[],
  options: Pick<StackOptions, 'hsmEnv'> & { own?: true } = {},
): FileStack {
  let current: FileStack | undefined;
  let cleanUp: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const shared = options.own || options.hsmEnv ? undefined : sharedStack();
    if (!shared) {
      const local = await startLocalStack(appOrigins, options);
      current = local;
      cleanUp = () => local.stop();
      return;
    }
    const outside = appOrigins.filter((origin) => !SHARED_ORIGINS.includes(origin));
    if (outside.length > 0) throw new Error(`add ${outside.join(', ')} to SHARED_ORIGINS`);
    const bucket = testBucketName();
    const client = motoS3(shared.motoUrl, shared.config.region);
    const dir = await mkdtemp(join(tmpdir(), 'veil-it-'));
    cleanUp = async () => {
      try {
        await removeFileBucket(client, bucket);
      } finally {
        client.destroy();
        await rm(dir, { recursive: true, force: true });
      }
    };
    await createFileBucket(client, bucket, { origins: appOrigins });
    current = {
      stack: { ...shared, config: { ...shared.config, bucket }, aws: { ...shared.aws, bucket } },
      dir,
    };
  });
  afterAll(async () => {
    await cleanUp?.();
  });
  const started = (): FileStack => {
    if (!current) throw new Error('the local stack is not started yet');
    return current;
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
