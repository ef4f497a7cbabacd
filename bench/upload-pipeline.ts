/**
 * Part (a) of `npm run bench:upload`: the upload engine's encrypt pipeline (read + encrypt in the
 * worker pool, parts dropped by a sink, no network) on a file picked from disk, against the
 * primitive pipeline (primitives.ts) and `File.stream()` alone on the same File, alternated round
 * by round, medians, with the Chromium CPU time of each run read from /proc; raw AES-GCM and the
 * same pipeline without encryption beside them; then where the time goes, stage by stage
 * (stages.ts). It runs in a browser of its own: on a machine shared with other test runs, a
 * browser can be closed from outside mid-run, and then the round runs again in a new one.
 */
import type { Browser, Page } from '@playwright/test';
import { chromiumCpuMs, loadAverage } from './chromium-proc';
import type * as Entry from './upload-entry';

const MiB = 1024 * 1024;
const FRAME_BYTES = 512 * 1024;
const PART_BYTES = 8 * MiB;
/** A round that takes longer than this is taken as stalled. */
const STALL_MS = 240_000;

/** What part (a) needs. */
export interface PipelineSettings {
  /** The served bench page (upload-entry.ts). */
  readonly url: string;
  readonly launch: () => Promise<Browser>;
  /** The file on disk, picked through an <input type=file>. */
  readonly path: string;
  readonly fileBytes: number;
  readonly workers: number;
  /** Rounds; each runs the engine, the primitive pipeline, the unencrypted engine and a read. */
  readonly runs: number;
  /** Rounds of the stage table (0 skips it). */
  readonly stageRuns: number;
  /** Also run the engine with one part per job (the earlier arrangement). */
  readonly onePart: boolean;
}

const median = (values: number[]): number =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
const mbps = (bytes: number, ms: number): number => bytes / 1e6 / (ms / 1000);
const round = (value: number, digits = 1): number => Number(value.toFixed(digits));

/** Runs part (a); returns its figures and the stage table (ms per GiB by stage). */
export async function measurePipeline(settings: PipelineSettings) {
  const { workers, fileBytes } = settings;
  let browser: Browser | undefined;
  let page: Page | undefined;
  const current = (): Page => {
    if (!page) throw new Error('no page');
    return page;
  };
  const engine = async (
    arrangement: Entry.Arrangement,
    protection: 'client-side' | 'none' = 'client-side',
  ) => {
    const before = await chromiumCpuMs();
    const ms = await current().evaluate(
      ([w, arr, prot]) => window.bench.uploadMs('disk', w, prot, {}, arr),
      [workers, arrangement, protection] as const,
    );
    return { ms, cpuMs: (await chromiumCpuMs()) - before };
  };
  const primitive = async () => {
    const before = await chromiumCpuMs();
    const ms = await current().evaluate(
      ([w, frame]) => window.bench.primitivePipelineMs('disk', w, frame),
      [workers, FRAME_BYTES] as const,
    );
    return { ms, cpuMs: (await chromiumCpuMs()) - before };
  };
  const open = async (): Promise<void> => {
    await browser?.close().catch(() => undefined);
    browser = await settings.launch();
    page = await browser.newPage();
    await page.goto(settings.url);
    await page.waitForFunction(() => document.title === 'ready');
    await page.evaluate(() => {
      window.bench = (window as unknown as { harness: typeof Entry }).harness;
      window.bench.addFileInput();
    });
    await page.setInputFiles('#bench-file', settings.path);
    await page.evaluate(() => window.bench.takeInputFile('disk'));
    // Warm-up: the pool, the workers' code and the file's pages in the OS cache.
    await engine('runs');
    await primitive();
  };
  /**
   * Runs `work`; when the browser was closed from outside, or its page stopped answering (a
   * renderer killed from outside leaves page.evaluate waiting), again in a new one (3 tries).
   */
  const survive = async <T>(work: () => Promise<T>): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const stalled = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('the page has been closed (stalled)')), STALL_MS);
      });
      try {
        return await Promise.race([work(), stalled]);
      } catch (error) {
        if (attempt >= 3 || !/has been closed/.test(String(error))) throw error;
        console.log('the browser was closed from outside; this round runs again in a new one');
        await open();
      } finally {
        clearTimeout(timer);
      }
    }
  };
  try {
    await survive(open);
    const arrangements: Entry.Arrangement[] = settings.onePart ? ['runs', 'one-part'] : ['runs'];
    const engineMs: Record<string, number[]> = { runs: [], 'one-part': [] };
    const engineCpu: Record<string, number[]> = { runs: [], 'one-part': [] };
    const primitiveMs: number[] = [];
    const primitiveCpu: number[] = [];
    const readOnly: number[] = [];
    const reads: number[] = [];
    const aes: number[] = [];
    const loads: number[] = [await loadAverage()];
    for (let run = 0; run < settings.runs; run++) {
      const figures = await survive(async () => {
        const byArrangement = [];
        for (const arrangement of arrangements) byArrangement.push(await engine(arrangement));
        return {
          byArrangement,
          base: await primitive(),
          readOnly: (await engine('runs', 'none')).ms,
          read: await current().evaluate(() => window.bench.streamReadMs('disk')),
          aes: await current().evaluate(
            ([size, w, frame]) => window.bench.rawAesMs(size, w, frame),
            [fileBytes, workers, FRAME_BYTES] as const,
          ),
        };
      });
      figures.byArrangement.forEach((result, index) => {
        const arrangement = arrangements[index] ?? 'runs';
        engineMs[arrangement]?.push(result.ms);
        engineCpu[arrangement]?.push(result.cpuMs);
      });
      primitiveMs.push(figures.base.ms);
      primitiveCpu.push(figures.base.cpuMs);
      readOnly.push(figures.readOnly);
      reads.push(figures.read);
      aes.push(figures.aes);
      loads.push(await loadAverage());
    }
    const pipelineMs = median(engineMs.runs ?? []);
    const baseMs = median(primitiveMs);
    const readMs = median(reads);
    const perGiB = (cpuMs: number[]): number => round((median(cpuMs) * 1024 * MiB) / fileBytes, 0);
    const pipeline = {
      fileMiB: fileBytes / MiB,
      loadAverage: `${Math.min(...loads)}–${Math.max(...loads)}`,
      pipelineMBps: round(mbps(fileBytes, pipelineMs)),
      primitivePipelineMBps: round(mbps(fileBytes, baseMs)),
      fileStreamReadMBps: round(mbps(fileBytes, readMs)),
      rawAesGcmMBps: round(mbps(fileBytes, median(aes))),
      readOnlyPipelineMBps: round(mbps(fileBytes, median(readOnly))),
      ratioToPrimitive: round(baseMs / pipelineMs, 2),
      ratioToFileStream: round(readMs / pipelineMs, 2),
      cpuMsPerGiB: perGiB(engineCpu.runs ?? []),
      primitiveCpuMsPerGiB: perGiB(primitiveCpu),
      cpuRatioToPrimitive: round(median(engineCpu.runs ?? []) / median(primitiveCpu), 2),
      ...(settings.onePart
        ? {
            onePartJobsMBps: round(mbps(fileBytes, median(engineMs['one-part'] ?? []))),
            onePartCpuMsPerGiB: perGiB(engineCpu['one-part'] ?? []),
          }
        : {}),
    };
    console.log(
      '\n(a) encrypt pipeline (read + encrypt, no network) against the primitive pipeline ' +
        '(File.stream() + raw AES-GCM in as many workers) and File.stream() alone',
    );
    console.table(pipeline);
    console.log(
      `pipeline (ms): ${(engineMs.runs ?? []).map((ms) => ms.toFixed(0)).join(' ')}; ` +
        `primitive (ms): ${primitiveMs.map((ms) => ms.toFixed(0)).join(' ')}; ` +
        `CPU (ms): ${(engineCpu.runs ?? []).join(' ')} vs ${primitiveCpu.join(' ')}`,
    );

    // Where the time goes: each stage alone on one thread, over the same file; medians by stage.
    const stageRuns: Record<string, number>[] = [];
    for (let run = 0; run < settings.stageRuns; run++) {
      stageRuns.push(
        await survive(() =>
          current().evaluate(([frame, part]) => window.bench.stagesPerGiB('disk', frame, part), [
            FRAME_BYTES,
            PART_BYTES,
          ] as const),
        ),
      );
    }
    const stages = Object.fromEntries(
      Object.keys(stageRuns[0] ?? {}).map((stage) => [
        stage,
        median(stageRuns.map((times) => times[stage] ?? 0)),
      ]),
    );
    if (settings.stageRuns > 0) {
      console.log('\nwhere the time goes: each stage alone on one thread, ms per GiB (medians)');
      console.table(stages);
    }
    return { pipeline, stages };
  } finally {
    await browser?.close().catch(() => undefined);
  }
}
