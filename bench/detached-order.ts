/**
 * The page's side of a detached bench run ([Note: detached page] in detached-page.ts): the job
 * in the address's fragment, a signal that the page is ready (the bench takes its baselines
 * before answering), CPU readings asked for between steps, and the result sent back.
 */

/** What the fragment of a detached page's address holds. */
export interface DetachedOrder<Job> {
  readonly job: Job;
  /** Where to POST: `ready` first, then `result`. */
  readonly reportUrl: string;
}

/** The order in the address's fragment, or undefined when the page was opened without one. */
export function detachedOrder<Job>(): DetachedOrder<Job> | undefined {
  const fragment = location.hash.slice(1);
  return fragment ? (JSON.parse(decodeURIComponent(fragment)) as DetachedOrder<Job>) : undefined;
}

let reportUrl: string | undefined;

/**
 * Has the bench read Chromium's CPU time now, under `label` (detached-page.ts returns the
 * readings in order); waits until it has. Does nothing outside a detached run.
 */
export async function markCpu(label: string): Promise<void> {
  if (reportUrl) await fetch(`${reportUrl}mark`, { method: 'POST', body: label });
}

/**
 * Runs `work` for the order in the address, if any: tells the bench it is ready, waits for its
 * answer, then sends the result, or the failure's message.
 */
export async function runOrder<Job, Result>(work: (job: Job) => Promise<Result>): Promise<void> {
  const order = detachedOrder<Job>();
  if (!order) return;
  reportUrl = order.reportUrl;
  await fetch(`${order.reportUrl}ready`, { method: 'POST' });
  let answer: { result?: Result; error?: string };
  try {
    answer = { result: await work(order.job) };
  } catch (error) {
    answer = { error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
  }
  await fetch(`${order.reportUrl}result`, { method: 'POST', body: JSON.stringify(answer) });
}
