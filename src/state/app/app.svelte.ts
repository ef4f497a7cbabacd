/**
 * Start-up state: the runtime config and the worker. The app shell renders from this.
 */
import { loadConfig, type VeilConfig } from '../../aws/config';
import { VeilError } from '../../core/errors';
import { narrowConnectSrc } from '../../hosting/runtime-csp';
import { WorkerClient } from '../../workers/client';

export type WorkerStatus =
  | { state: 'starting' }
  | { state: 'ready'; roundTripMs: number; webCrypto: boolean }
  | { state: 'failed'; message: string };

export class AppState {
  #config = $state<VeilConfig | null>(null);
  #configError = $state<VeilError | null>(null);
  #worker = $state<WorkerStatus>({ state: 'starting' });
  #client: WorkerClient | null = null;

  get config(): VeilConfig | null {
    return this.#config;
  }
  get configError(): VeilError | null {
    return this.#configError;
  }
  get worker(): WorkerStatus {
    return this.#worker;
  }

  /** Loads config.json and starts the worker; never throws (errors become state). */
  async start(): Promise<void> {
    await Promise.all([this.#loadConfig(), this.#startWorker()]);
  }

  async #loadConfig(): Promise<void> {
    try {
      this.#config = await loadConfig(fetch.bind(globalThis));
      narrowConnectSrc(this.#config);
    } catch (error) {
      this.#configError =
        error instanceof VeilError ? error : new VeilError('CONFIG_MISSING', String(error));
    }
  }

  async #startWorker(): Promise<void> {
    try {
      this.#client ??= new WorkerClient();
      const pong = await this.#client.ping();
      this.#worker = { state: 'ready', roundTripMs: pong.roundTripMs, webCrypto: pong.webCrypto };
    } catch (error) {
      this.#worker = {
        state: 'failed',
        message: error instanceof Error ? error.message : String(error),
      };
    }
  }
}
