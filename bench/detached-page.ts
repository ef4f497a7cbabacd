/**
 * Runs one bench job in a Chromium with no DevTools client attached.
 *
 * [Note: detached page] Playwright drives its pages through the DevTools protocol with the
 * Network domain enabled, and then the renderer reports every chunk of every response to the
 * client and keeps recent response bodies (by default up to about 200 MB in all, each up to
 * 10 MB) for Network.getResponseBody. That is work and memory a user's browser does not spend: a
 * 256 MiB ranged download here ran at about 32 MB/s under Playwright against about 50 MB/s
 * without it, and the kept 8 MiB ranges add to the renderer's memory. So the download figures
 * are measured in a Chromium started here with the page's address alone: the page reads its job
 * from the address's fragment, runs it, and POSTs the result to a one-shot server on loopback.
 * The Chromium is this process's child: its CPU and memory are read from its own processes
 * (chromium-proc.ts), apart from any other browser the bench runs.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHROMIUM_ARGS } from '../scripts/chromium';
import { chromiumCpuMs } from './chromium-proc';
import type { DetachedOrder } from './detached-order';

/** Chromium's CPU time so far (ms) when the page marked `label` (detached-order.ts markCpu). */
export interface CpuMark {
  readonly label: string;
  readonly cpuMs: number;
}

/** What a detached run returns. */
export interface DetachedRun<Result> {
  readonly result: Result;
  /** Chromium's CPU time from the page's ready signal to its result, in ms. */
  readonly cpuMs: number;
  /** The CPU readings the page asked for, in order. */
  readonly marks: CpuMark[];
}

/**
 * Opens `pageUrl` with `job` in a fresh persistent profile (OPFS on disk) and returns what the
 * page reports (detached-order.ts runOrder), with the CPU time Chromium used from the page's
 * ready signal to its result (read before the browser is closed). `onReady` runs when the page is ready to start, and
 * the page waits for it (a memory sampler takes its baseline there, say).
 * @throws Error when the page reports a failure, Chromium exits first, or `timeoutMs` passes.
 */
export async function runDetached<Job, Result>(
  pageUrl: string,
  job: Job,
  options: { onReady?: (browserPid: number) => Promise<void>; timeoutMs?: number } = {},
): Promise<DetachedRun<Result>> {
  let cpuAtReadyMs = 0;
  let cpuAtResultMs = 0;
  const marks: CpuMark[] = [];
  const profile = await mkdtemp(join(tmpdir(), 'veil-bench-detached-'));
  let settle: { resolve(body: string): void; reject(error: Error): void } | undefined;
  const reported = new Promise<string>((resolve, reject) => (settle = { resolve, reject }));
  const server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      const answer = (): void => {
        response.writeHead(204, { 'access-control-allow-origin': '*' });
        response.end();
      };
      if (request.method !== 'POST') return answer();
      if (request.url === '/mark') {
        void chromiumCpuMs(browser.pid).then((cpuMs) => {
          marks.push({ label: body, cpuMs });
          answer();
        });
        return;
      }
      if (request.url === '/ready') {
        (async () => {
          await options.onReady?.(browser.pid ?? 0);
          cpuAtReadyMs = await chromiumCpuMs(browser.pid);
        })().then(answer, (error: Error) => {
          answer();
          settle?.reject(error);
        });
        return;
      }
      answer();
      void chromiumCpuMs(browser.pid).then((cpuMs) => {
        cpuAtResultMs = cpuMs;
        settle?.resolve(body);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const reportUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const order: DetachedOrder<Job> = { job, reportUrl };
  const browser = spawn(
    process.env.VEIL_CHROMIUM ?? '/usr/bin/chromium',
    [
      ...CHROMIUM_ARGS,
      '--headless',
      `--user-data-dir=${profile}`,
      `${pageUrl}#${encodeURIComponent(JSON.stringify(order))}`,
    ],
    { stdio: 'ignore' },
  );
  browser.on('exit', (code) => settle?.reject(new Error(`Chromium exited (${code}) first`)));
  const timer = setTimeout(
    () => settle?.reject(new Error('the detached page timed out')),
    options.timeoutMs ?? 30 * 60_000,
  );
  try {
    const answer = JSON.parse(await reported) as { error?: string; result?: Result };
    if (answer.error !== undefined) throw new Error(`the detached page failed: ${answer.error}`);
    return { result: answer.result as Result, cpuMs: cpuAtResultMs - cpuAtReadyMs, marks };
  } finally {
    clearTimeout(timer);
    if (browser.exitCode === null && browser.signalCode === null) {
      const exited = new Promise((resolve) => browser.once('exit', resolve));
      browser.kill();
      await exited;
    }
    server.close();
    await rm(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  }
}
