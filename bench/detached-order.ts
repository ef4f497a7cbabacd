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
 * Runs `work` for the order in the address, if any: runs `prepare` (say, making a file), tells the
 * bench it is ready and waits for its answer, then runs `work` with what `prepare` made and sends
 * the result, or the failure's message.
 */
export async function runOrder<Job, Result, Prepared = undefined>(
  work: (job: Job, prepared: Prepared) => Promise<Result>,
  prepare?: (job: Job) => Promise<Prepared>,
): Promise<void> {
  const order = detachedOrder<Job>();
  if (!order) return;
  reportUrl = order.reportUrl;
  let answer: { result?: Result; error?: string };
  try {
    const prepared = (await prepare?.(order.job)) as Prepared;
    await fetch(`${order.reportUrl}ready`, { method: 'POST' });
    answer = { result: await work(order.job, prepared) };
  } catch (error) {
    answer = { error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
  }
  await fetch(`${order.reportUrl}result`, { method: 'POST', body: JSON.stringify(answer) });
}

/** The JS heap in use, where Chromium tells it (performance.memory). */
const heapUsedBytes = (): number =>
  (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? 0;

/** The page's JS heap in use: at its peak, and its growth over the start; bytes. */
export interface HeapFigures {
  readonly peakBytes: number;
  readonly growthBytes: number;
}

/** Samples the page's JS heap every 100 ms until `stop()`. */
export function sampleHeap(): { stop(): HeapFigures } {
  const baselineBytes = heapUsedBytes();
  let peakBytes = baselineBytes;
  const timer = setInterval(() => (peakBytes = Math.max(peakBytes, heapUsedBytes())), 100);
  return {
    stop() {
      clearInterval(timer);
      peakBytes = Math.max(peakBytes, heapUsedBytes());
      return { peakBytes, growthBytes: peakBytes - baselineBytes };
    },
  };
}
