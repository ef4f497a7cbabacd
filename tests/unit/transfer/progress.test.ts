import { describe, expect, test } from 'vitest';
import { ProgressMeter, RATE_WINDOW_MS } from '../../../src/transfer/progress';

describe('ProgressMeter', () => {
  test('counts bytes and derives rate and ETA from a sliding window', () => {
    let nowMs = 0;
    const meter = new ProgressMeter(() => nowMs);
    meter.start({ plaintextBytes: 1000, objectBytes: 1100, partCount: 4 });
    expect(meter.snapshot('uploading')).toMatchObject({
      rateBytesPerSecond: 0,
      etaSeconds: undefined,
    });
    meter.addEncrypted(250);
    nowMs = 1000;
    meter.addUploaded(275);
    let p = meter.snapshot('uploading');
    expect(p).toMatchObject({
      encryptedBytes: 250,
      uploadedBytes: 275,
      partsDone: 1,
      rateBytesPerSecond: 275,
    });
    expect(p.etaSeconds).toBeCloseTo(825 / 275);
    // Old samples leave the window: only recent progress sets the rate.
    nowMs = 1000 + RATE_WINDOW_MS * 3;
    meter.addUploaded(275);
    nowMs += 1000;
    meter.addUploaded(275);
    p = meter.snapshot('uploading');
    expect(p.rateBytesPerSecond).toBeGreaterThan(0);
    expect(p.rateBytesPerSecond).toBeLessThanOrEqual(550);
    meter.addUploaded(275);
    expect(meter.snapshot('done')).toMatchObject({
      uploadedBytes: 1100,
      etaSeconds: 0,
      state: 'done',
    });
  });

  test('a resumed upload starts with its finished parts and encrypted bytes stay within bounds', () => {
    const meter = new ProgressMeter(() => 0);
    meter.start(
      { plaintextBytes: 100, objectBytes: 120, partCount: 3 },
      { parts: 2, objectBytes: 80, plaintextBytes: 66 },
    );
    meter.addEncrypted(1000);
    meter.dropEncrypted(10);
    expect(meter.snapshot('uploading')).toMatchObject({
      partsDone: 2,
      uploadedBytes: 80,
      encryptedBytes: 90,
    });
    meter.dropEncrypted(1000);
    expect(meter.snapshot('paused').encryptedBytes).toBe(0);
  });
});
