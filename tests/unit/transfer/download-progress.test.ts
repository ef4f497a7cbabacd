/** Download progress: written bytes, rate over the window, ETA. */
import { expect, test } from 'vitest';
import { DownloadMeter } from '../../../src/transfer/download-progress';

test('rate and ETA follow the written bytes', () => {
  let nowMs = 0;
  const meter = new DownloadMeter(() => nowMs);
  meter.start(1100, 1000);
  expect(meter.snapshot('opening')).toMatchObject({ rateBytesPerSecond: 0, etaSeconds: undefined });
  nowMs = 1000;
  meter.addFetched(300);
  meter.addWritten(250);
  expect(meter.snapshot('downloading')).toMatchObject({
    state: 'downloading',
    objectBytes: 1100,
    totalBytes: 1000,
    fetchedBytes: 300,
    writtenBytes: 250,
    rateBytesPerSecond: 250,
    etaSeconds: 3,
  });
  nowMs = 20_000;
  meter.addWritten(750);
  expect(meter.snapshot('done')).toMatchObject({ writtenBytes: 1000, etaSeconds: 0 });
});
