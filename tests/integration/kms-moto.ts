/**
 * The local stack for the Model C and credentials integration tests (they use its moto: S3, KMS
 * with alias/veil-demo, Cognito), with the app's config as parseConfig returns it.
 */
import type { Provisioned } from '../../scripts/stack/provision';
import type { VeilConfig } from '../../src/aws/config';
import { parseConfig } from '../../src/aws/config';
import { startLocalStack } from './local-stack';

export interface MotoStack {
  readonly motoUrl: string;
  readonly aws: Provisioned;
  readonly config: VeilConfig;
  stop(): Promise<void>;
}

/** Starts the stack; `stop` ends it and removes its directory. */
export async function startProvisionedMoto(): Promise<MotoStack> {
  const local = await startLocalStack(['http://127.0.0.1:5999']);
  return {
    motoUrl: local.stack.motoUrl,
    aws: local.stack.aws,
    config: parseConfig(local.stack.config),
    stop: () => local.stop(),
  };
}
