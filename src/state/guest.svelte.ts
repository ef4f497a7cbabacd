/**
 * A Cognito guest identity: asks the identity pool for temporary credentials and keeps only a
 * summary without secrets for display.
 */
import type { VeilConfig } from '../aws/config';
import { cognitoGuestProvider, summarise, type CredentialSummary } from '../aws/credentials';
import { VeilError } from '../core/errors';

export type GuestStatus =
  | { state: 'idle' }
  | { state: 'working' }
  | { state: 'ready'; summary: CredentialSummary }
  | { state: 'failed'; message: string };

export class GuestIdentity {
  #status = $state<GuestStatus>({ state: 'idle' });

  get status(): GuestStatus {
    return this.#status;
  }

  async connect(config: VeilConfig): Promise<void> {
    this.#status = { state: 'working' };
    try {
      const summary = await summarise(cognitoGuestProvider(config));
      this.#status = { state: 'ready', summary };
    } catch (error) {
      const message =
        error instanceof VeilError ? error.message : 'Could not obtain AWS credentials.';
      this.#status = { state: 'failed', message };
    }
  }
}
