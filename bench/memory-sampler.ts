/**
 * Memory while a bench transfer runs: every 100 ms, the resident memory of this process's
 * Chromium processes and of its renderers alone (VmRSS from /proc, chromium-proc.ts; the renderer
 * holds the page and its workers), and the page's JavaScript heap in use (the DevTools protocol's
 * Performance.getMetrics JSHeapUsedSize, the page's main thread). Growth is the peak less the
 * figure just before the transfer started.
 */
import type { Page } from '@playwright/test';
import { chromiumRssBytes } from './chromium-proc';

const MiB = 1024 * 1024;
const round = (bytes: number): number => Math.round(bytes / MiB);

/** What the sampler saw, in MiB. */
export interface MemoryFigures {
  /** All Chromium processes: the peak, and its growth over the baseline. */
  readonly peakMiB: number;
  readonly growthMiB: number;
  /** The renderers alone (the page and its workers). */
  readonly rendererPeakMiB: number;
  readonly rendererGrowthMiB: number;
  /** The page's JavaScript heap in use. */
  readonly heapPeakMiB: number;
  readonly heapGrowthMiB: number;
}

/**
 * Takes the baseline, then samples until `stop()`, which returns the peaks and growths.
 * @param page the page whose heap is read through a DevTools session of its own; without one
 *   (a detached page, detached-page.ts) the heap figures are 0 and the page reports its own.
 * @param options.browserPid only that browser's processes (a detached one), not every Chromium
 *   this process started.
 */
export async function sampleMemory(
  page: Page | undefined,
  options: { intervalMs?: number; browserPid?: number } = {},
): Promise<{ stop(): Promise<MemoryFigures> }> {
  const intervalMs = options.intervalMs ?? 100;
  const cdp = page ? await page.context().newCDPSession(page) : undefined;
  await cdp?.send('Performance.enable');
  const heapBytes = async (): Promise<number> => {
    if (!cdp) return 0;
    const { metrics } = await cdp.send('Performance.getMetrics');
    return metrics.find((metric) => metric.name === 'JSHeapUsedSize')?.value ?? 0;
  };
  const baseline = { ...(await chromiumRssBytes(options.browserPid)), heap: await heapBytes() };
  const peak = { ...baseline };
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const [rss, heap] = await Promise.all([
        chromiumRssBytes(options.browserPid),
        heapBytes().catch(() => 0),
      ]);
      peak.total = Math.max(peak.total, rss.total);
      peak.renderer = Math.max(peak.renderer, rss.renderer);
      peak.heap = Math.max(peak.heap, heap);
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  return {
    async stop() {
      sampling = false;
      await sampler;
      await cdp?.detach().catch(() => undefined);
      return {
        peakMiB: round(peak.total),
        growthMiB: round(peak.total - baseline.total),
        rendererPeakMiB: round(peak.renderer),
        rendererGrowthMiB: round(peak.renderer - baseline.renderer),
        heapPeakMiB: round(peak.heap),
        heapGrowthMiB: round(peak.heap - baseline.heap),
      };
    },
  };
}
