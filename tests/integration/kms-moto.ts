/**
 * The local stack for the Model C and credentials integration tests (they use its moto: S3, KMS
 * with alias/veil-demo, Cognito), with the app's config as parseConfig returns it.
 */
import type { Provisioned } from '../../scripts/stack/provision';
import type { VeilConfig } from '../../src/aws/config';
import { parseConfig } from '../../src/aws/config';
import { testBucketName } from '../../scripts/stack/stack';
import { startLocalStack } from './local-stack';
import { createFileBucket, motoS3, removeFileBucket, sharedStack } from './support/shared-stack';

const ORIGIN = 'http://127.0.0.1:5999';

export interface MotoStack {
  readonly motoUrl: string;
  readonly aws: Provisioned;
  readonly config: VeilConfig;
  stop(): Promise<void>;
}

/**
 * The run's shared stack with a fresh bucket of the caller's ([Note: one stack per run]), or in a
 * project without one a stack of its own; `stop` deletes the bucket, or ends the stack and
 * removes its directory.
 */
export async function startProvisionedMoto(): Promise<MotoStack> {
  const shared = sharedStack();
  if (!shared) {
    const local = await startLocalStack([ORIGIN]);
    return {
      motoUrl: local.stack.motoUrl,
      aws: local.stack.aws,
      config: parseConfig(local.stack.config),
      stop: () => local.stop(),
    };
  }
  const bucket = testBucketName();
  const client = motoS3(shared.motoUrl, shared.config.region);
  await createFileBucket(client, bucket, { origins: [ORIGIN] });
  return {
    motoUrl: shared.motoUrl,
    aws: { ...shared.aws, bucket },
    config: parseConfig({ ...shared.config, bucket }),
    async stop() {
      try {
        await removeFileBucket(client, bucket);
      } finally {
        client.destroy();
      }
    },
  };
}
