/**
 * One request a panel runs on the user's behalf (list the HSM labels, check the connection, run
 * the KMS self test), as the view shows it: not started, running, its value, or the error it
 * ended with, already in the words ErrorNotice shows (shownError). Keys, Settings and the KMS
 * panel all use it, so a view reads every such request the same way.
 */
import { shownError, type ShownError } from './shown-error';

export type Task<T> =
  | { readonly state: 'idle' }
  | { readonly state: 'working' }
  | { readonly state: 'done'; readonly value: T }
  | { readonly state: 'failed'; readonly error: ShownError };

/** A reactive Task: `run` moves it through working to done or failed. */
export class TaskState<T> {
  #task = $state<Task<T>>({ state: 'idle' });
  /** Counts runs, so an earlier run that settles late cannot overwrite a later one. */
  #runs = 0;

  get current(): Task<T> {
    return this.#task;
  }

  /** Runs `work`; its value or its error becomes the task's. Never throws. */
  async run(work: () => Promise<T>): Promise<void> {
    const run = ++this.#runs;
    this.#task = { state: 'working' };
    let next: Task<T>;
    try {
      next = { state: 'done', value: await work() };
    } catch (error) {
      next = { state: 'failed', error: shownError(error) };
    }
    if (run === this.#runs) this.#task = next;
  }
}
