/**
 * The page side of the service-worker download ([Note: service-worker download]) against a
 * stand-in for public/veil-download-sw.js that speaks the same protocol over a real
 * MessageChannel: nothing is announced before the first write, each write waits for the
 * browser's pull (backpressure), whole buffers are transferred, close waits for the worker,
 * abort and a cancel in the browser reach the other side, and a download the browser never
 * starts fails instead of hanging. The real worker runs in tests/e2e/download-sw.spec.ts.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { VeilError } from '../../../src/core/errors';
import {
  downloadWorker,
  sinkThroughWorker,
  type WorkerContainer,
} from '../../../src/transfer/browser/download-sw-sink';

type PageMessage = { type: string; bytes?: Uint8Array; reason?: string };

/** Speaks the worker's side of the protocol; the test decides when the browser pulls. */
class StandInWorker {
  port: MessagePort | undefined;
  announced: { id: string; fileName: string }[] = [];
  fromPage: PageMessage[] = [];
  #arrived: (() => void)[] = [];

  postMessage(message: { type: string; id: string; fileName: string }, transfer?: unknown): void {
    if (message.type !== 'veil-download') return;
    this.announced.push({ id: message.id, fileName: message.fileName });
    const port = (transfer as MessagePort[])[0]!;
    this.port = port;
    port.onmessage = (event: MessageEvent<PageMessage>) => {
      this.fromPage.push(event.data);
      if (event.data.type === 'close') port.postMessage({ type: 'closed' });
      for (const wake of this.#arrived.splice(0)) wake();
    };
    port.postMessage({ type: 'ready', url: `https://app.example/veil-download/${message.id}` });
  }

  pull(): void {
    this.port?.postMessage({ type: 'pull' });
  }

  cancel(): void {
    this.port?.postMessage({ type: 'cancelled' });
  }

  /** Resolves once the page sent `count` messages in all. */
  async received(count: number): Promise<void> {
    while (this.fromPage.length < count) {
      await new Promise<void>((resolve) => this.#arrived.push(resolve));
    }
  }
}

const workers: StandInWorker[] = [];
function standIn(): StandInWorker {
  const worker = new StandInWorker();
  workers.push(worker);
  return worker;
}

afterEach(() => {
  for (const worker of workers.splice(0)) worker.port?.close();
});

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('the service-worker sink', () => {
  test('announces at the first write, waits for each pull, transfers whole buffers', async () => {
    const worker = standIn();
    const started: string[] = [];
    const sink = sinkThroughWorker(worker, {
      fileName: 'report.pdf',
      startDownload: (url) => started.push(url),
    });
    await tick();
    expect(worker.announced).toEqual([]);

    const whole = new Uint8Array([1, 2, 3]);
    let written = false;
    const first = sink.write(whole).then(() => (written = true));
    await tick();
    expect(worker.announced).toHaveLength(1);
    expect(worker.announced[0]?.fileName).toBe('report.pdf');
    expect(started).toEqual([`https://app.example/veil-download/${worker.announced[0]?.id}`]);
    expect(written).toBe(false); // no pull yet: the browser has no room
    worker.pull();
    await first;
    await worker.received(1);
    expect(worker.fromPage[0]).toMatchObject({ type: 'chunk', bytes: new Uint8Array([1, 2, 3]) });
    expect(whole.byteLength).toBe(0); // transferred, not copied

    const backing = new Uint8Array([9, 8, 7, 6]);
    const view = backing.subarray(1, 3);
    worker.pull();
    await sink.write(view);
    await worker.received(2);
    expect(worker.fromPage[1]?.bytes).toEqual(new Uint8Array([8, 7]));
    expect(backing).toEqual(new Uint8Array([9, 8, 7, 6])); // a view is copied

    await sink.close();
    expect(worker.fromPage.map((message) => message.type)).toEqual(['chunk', 'chunk', 'close']);
  });

  test('an empty file starts the download and closes once the browser asked for it', async () => {
    const worker = standIn();
    const sink = sinkThroughWorker(worker, { fileName: 'empty', startDownload: () => undefined });
    const closed = sink.close();
    await tick();
    expect(worker.announced).toHaveLength(1);
    worker.pull();
    await closed;
    expect(worker.fromPage.map((message) => message.type)).toEqual(['close']);
  });

  test('an abort before any byte announces nothing; after, it reaches the worker', async () => {
    const quiet = standIn();
    const early = sinkThroughWorker(quiet, { fileName: 'x', startDownload: () => undefined });
    await early.abort(new VeilError('WRONG_KEY'));
    await expect(early.write(new Uint8Array(1))).rejects.toMatchObject({ code: 'WRONG_KEY' });
    expect(quiet.announced).toEqual([]);

    const worker = standIn();
    const sink = sinkThroughWorker(worker, { fileName: 'x', startDownload: () => undefined });
    const write = sink.write(new Uint8Array(4));
    await tick();
    worker.pull();
    await write;
    await sink.abort(new VeilError('FRAME_TAMPERED'));
    await worker.received(2);
    expect(worker.fromPage[1]).toEqual({ type: 'abort', reason: 'FRAME_TAMPERED' });
  });

  test('a cancel in the browser rejects the pending write with DOWNLOAD_CANCELLED', async () => {
    const worker = standIn();
    const sink = sinkThroughWorker(worker, { fileName: 'x', startDownload: () => undefined });
    const first = sink.write(new Uint8Array(4));
    await tick();
    worker.pull();
    await first;
    const second = sink.write(new Uint8Array(4));
    worker.cancel();
    await expect(second).rejects.toMatchObject({ code: 'DOWNLOAD_CANCELLED' });
    await expect(sink.close()).rejects.toMatchObject({ code: 'DOWNLOAD_CANCELLED' });
  });

  test('a download the browser never requests fails instead of waiting forever', async () => {
    const worker = standIn();
    const sink = sinkThroughWorker(worker, {
      fileName: 'x',
      startDownload: () => undefined,
      startTimeoutMs: 20,
    });
    await expect(sink.write(new Uint8Array(1))).rejects.toMatchObject({
      code: 'DOWNLOAD_SAVE_FAILED',
      detail: 'the browser did not start the download',
    });
  });
});

describe('downloadWorker', () => {
  const script = new URL('https://app.example/veil-download-sw.js');
  const scope = 'https://app.example/veil-download/';

  /** A stand-in ServiceWorker: a script URL and a state that can change. */
  function worker(state: ServiceWorkerState): ServiceWorker {
    const target = new EventTarget();
    return Object.assign(target, { scriptURL: script.href, state }) as unknown as ServiceWorker;
  }

  test('looks the active worker up for every download, so an updated one is used', async () => {
    const registration = { scope, active: worker('activated') } as ServiceWorkerRegistration;
    const registered: string[] = [];
    const container: WorkerContainer = {
      getRegistration: (url) => Promise.resolve(url === scope ? registration : undefined),
      register: (url) => {
        registered.push(String(url));
        return Promise.resolve(registration);
      },
    };
    const first = await downloadWorker(script, container);
    expect(first).toBe(registration.active);
    // A deploy replaced the worker: the old one is redundant, the registration has a new one.
    const updated = worker('activated');
    Object.assign(registration, { active: updated });
    expect(await downloadWorker(script, container)).toBe(updated);
    expect(registered).toEqual([]);
  });

  test('registers when the scope has no registration and waits for activation', async () => {
    const installing = worker('installing');
    const registration = {
      scope,
      active: null,
      installing,
      waiting: null,
    } as unknown as ServiceWorkerRegistration;
    const registered: { url: string; scope?: string }[] = [];
    const container: WorkerContainer = {
      getRegistration: () => Promise.resolve(undefined),
      register: (url, options) => {
        registered.push({ url: String(url), scope: options?.scope });
        // Activates after the caller started waiting for it.
        setTimeout(() => {
          Object.assign(installing, { state: 'activated' });
          Object.assign(registration, { active: installing, installing: null });
          installing.dispatchEvent(new Event('statechange'));
        }, 0);
        return Promise.resolve(registration);
      },
    };
    expect(await downloadWorker(script, container)).toBe(installing);
    expect(registered).toEqual([{ url: script.href, scope }]);
  });
});
