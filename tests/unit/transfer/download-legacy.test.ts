/**
 * Objects Veil wrote before it ended exact multiples of the frame length with an empty final
 * frame: their full final frame still downloads through the ranged engine (frame batches, not
 * the sequential fallback), whole, in plaintext ranges and when tampered, and the same plaintext
 * in the form written now downloads the same ([Note: body layout from the object size] in
 * download-plan.ts).
 */
import { describe, expect, test } from 'vitest';
import { parseHeaderBytes } from '../../../src/core/message';
import { encryptBytes } from '../../../src/core/one-shot';
import {
  downloadObject,
  inspectObject,
  readPlaintextRange,
  type DownloadSetup,
} from '../../../src/transfer/download';
import { flipByte, ourKeyring, patternBytes, testKeyBytes } from '../core/helpers';
import { buildMessage } from '../core/message-builder';
import { FakeDownloadS3, MemorySink } from './download-fake-s3';

const KEY = testKeyBytes(256, 8);
const FRAME = 1024;

async function setup(s3: FakeDownloadS3): Promise<DownloadSetup> {
  return {
    s3,
    bucket: 'b',
    key: 'k',
    keyring: await ourKeyring(KEY),
    rangeBytes: 3 * (FRAME + 32),
    rangesInFlight: 2,
    retryHooks: { sleep: () => Promise.resolve() },
    origin: 'https://app.example',
  };
}

/** The same plaintext as an object of each form. */
async function bothForms(size: number) {
  const plain = patternBytes(size, 3);
  const keyring = await ourKeyring(KEY);
  const legacy = (await buildMessage(keyring, plain, FRAME)).whole;
  const current = await encryptBytes(plain, { keyring, frameBytes: FRAME });
  return { plain, forms: { 'full-final (before)': legacy, 'empty-final (now)': current } };
}

describe.each([1, 4, 13])('%i frames of plaintext, both final-frame forms', (frames) => {
  const size = frames * FRAME;

  test('download whole through frame batches, byte-identical', async () => {
    const { plain, forms } = await bothForms(size);
    expect(forms['empty-final (now)'].length - forms['full-final (before)'].length).toBe(32);
    for (const message of Object.values(forms)) {
      const s3 = new FakeDownloadS3();
      s3.put('k', message, { 'veil-format': 'esdk-v2-0478-framed' });
      const opened = await inspectObject(await setup(s3));
      expect(opened).toMatchObject({ kind: 'esdk-framed', plaintextBytes: size });
      const sink = new MemorySink();
      const result = await downloadObject({ ...(await setup(s3)), sink });
      expect(result).toMatchObject({ kind: 'esdk-framed', writtenBytes: size });
      expect(Buffer.compare(sink.bytes(), plain)).toBe(0);
    }
  });

  test('plaintext ranges, up to and at the end, read only their frames', async () => {
    const { plain, forms } = await bothForms(size);
    for (const message of Object.values(forms)) {
      const header = parseHeaderBytes(message);
      const s3 = new FakeDownloadS3();
      s3.put('k', message);
      for (const [start, end] of [
        [0, size],
        [size - 1, size],
        [size - FRAME, size],
        [size, size],
        [0, 1],
        [Math.max(0, size - FRAME - 3), size - 2],
      ] as const) {
        s3.ranges.length = 0;
        const bytes = await readPlaintextRange(await setup(s3), start, end);
        expect(Buffer.compare(bytes, plain.subarray(start, end))).toBe(0);
        const bodyBytes = s3.ranges
          .filter(([from]) => from >= header.headerBytes)
          .reduce((sum, [from, to]) => sum + (to - from), 0);
        // The final-frame check plus the frames of the range (a full final frame is 40 bytes
        // longer than its plaintext), nothing else of the body.
        const rangeFrames = Math.ceil(end / FRAME) - Math.floor(start / FRAME) + 1;
        expect(bodyBytes).toBeLessThanOrEqual((1 + rangeFrames) * (FRAME + 40));
      }
    }
  });

  test('a flipped byte in the full final frame fails with FRAME_TAMPERED', async () => {
    const { forms } = await bothForms(size);
    const message = forms['full-final (before)'].slice();
    flipByte(message, message.length - 20);
    const s3 = new FakeDownloadS3();
    s3.put('k', message);
    const sink = new MemorySink();
    await expect(downloadObject({ ...(await setup(s3)), sink })).rejects.toMatchObject({
      code: 'FRAME_TAMPERED',
    });
    expect(sink.aborted).toBe(true);
    await expect(readPlaintextRange(await setup(s3), size - 1, size)).rejects.toMatchObject({
      code: 'FRAME_TAMPERED',
    });
  });
});
