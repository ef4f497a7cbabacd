/**
 * Where the time of an upload goes (page side of `npm run bench:upload`, stage table): the stages
 * of building parts timed one at a time on one worker thread (stages-worker.ts), plus the page's
 * own per-part work: the Blob made of each part for the request body ([Note: Blob request bodies]
 * in src/transfer/s3-api.ts) and a worker round trip that transfers a part's buffer each way.
 * Each figure is milliseconds of one thread per GiB of plaintext.
 */
import type { StagesRequest, StageTimes } from './stages-worker';

const GiB = 1024 * 1024 * 1024;

/** Runs the worker's stages over `file`; returns ms per GiB by stage. */
export async function workerStages(file: Blob, frameBytes: number, partBytes: number) {
  const worker = new Worker(new URL('./stages-worker.ts', import.meta.url), { type: 'module' });
  try {
    const reply = await new Promise<{ times?: StageTimes; error?: string }>((resolve, reject) => {
      worker.onmessage = (event: MessageEvent<{ times?: StageTimes; error?: string }>) =>
        resolve(event.data);
      worker.onerror = (event) => reject(new Error(event.message));
      worker.postMessage({ file, frameBytes, partBytes } satisfies StagesRequest);
    });
    if (!reply.times) throw new Error(reply.error ?? 'no stage times');
    return perGiB(reply.times, file.size);
  } finally {
    worker.terminate();
  }
}

function perGiB(times: StageTimes, bytes: number): Record<string, number> {
  return Object.fromEntries(
    Object.entries(times).map(([stage, ms]) => [stage, Math.round((ms * GiB) / bytes)]),
  );
}

const ECHO_WORKER = `onmessage = (event) => postMessage(event.data, [event.data]);`;

/** The page's per-part work over `totalBytes` in `partBytes` parts; ms per GiB by stage. */
export async function pageStages(totalBytes: number, partBytes: number) {
  const parts = Math.ceil(totalBytes / partBytes);
  const url = URL.createObjectURL(new Blob([ECHO_WORKER], { type: 'text/javascript' }));
  const echo = new Worker(url);
  URL.revokeObjectURL(url);
  let blobMs = 0;
  let roundTripMs = 0;
  try {
    for (let part = 0; part < parts; part++) {
      const bytes = new Uint8Array(partBytes);
      bytes[0] = part;
      let startMs = performance.now();
      const blob = new Blob([bytes]);
      blobMs += performance.now() - startMs;
      if (blob.size !== partBytes) throw new Error('blob size');
      startMs = performance.now();
      await new Promise<void>((resolve) => {
        echo.onmessage = () => resolve();
        echo.postMessage(bytes.buffer, [bytes.buffer]);
      });
      roundTripMs += performance.now() - startMs;
    }
  } finally {
    echo.terminate();
  }
  return perGiB(
    {
      'page: Blob of each part (request body)': blobMs,
      'page: worker round trip per part (transferred)': roundTripMs,
    },
    parts * partBytes,
  );
}
