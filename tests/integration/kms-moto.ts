/**
 * The local stack on free ports in a temporary directory, for the Model C and credentials
 * integration tests (they use its moto: S3, KMS with alias/veil-demo, Cognito), with the app's
 * config as parseConfig returns it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../scripts/stack/process';
import type { Provisioned } from '../../scripts/stack/provision';
import { startStack, testBucketName } from '../../scripts/stack/stack';
import type { VeilConfig } from '../../src/aws/config';
import { parseConfig } from '../../src/aws/config';

export interface MotoStack {
  readonly motoUrl: string;
  readonly aws: Provisioned;
  readonly config: VeilConfig;
  stop(): Promise<void>;
}

/** Starts the stack; `stop` ends it and removes its directory. */
export async function startProvisionedMoto(): Promise<MotoStack> {
  const dir = await mkdtemp(join(tmpdir(), 'veil-kms-it-'));
  try {
    const stack = await startStack({
      dir,
      motoPort: await freePort(),
      hsmPort: await freePort(),
      appOrigins: ['http://127.0.0.1:5999'],
      bucket: testBucketName(),
    });
    return {
      motoUrl: stack.motoUrl,
      aws: stack.aws,
      config: parseConfig(stack.config),
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
