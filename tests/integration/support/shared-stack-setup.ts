/**
 * Vitest global setup of the `integration` project: starts one local stack (moto, a SoftHSM2
 * token, the HSM proxy) for the whole run and hands its addresses to the test files, which each
 * work in a bucket of their own on it ([Note: one stack per run], support/shared-stack.ts). It
 * stops the stack after the last file.
 */
import type { TestProject } from 'vitest/node';
import { startLocalStack } from '../local-stack';
import { SHARED_ORIGINS, type SharedStack } from './shared-stack';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const local = await startLocalStack([...SHARED_ORIGINS]);
  const { config, aws, token, motoUrl, hsmUrl, hsmPolicyFile, hsmAuditLog, demoIdToken } =
    local.stack;
  const shared: SharedStack = {
    config,
    aws,
    token,
    motoUrl,
    hsmUrl,
    hsmPolicyFile,
    hsmAuditLog,
    demoIdToken,
    dir: local.dir,
  };
  project.provide('veilSharedStack', shared);
  return () => local.stop();
}
