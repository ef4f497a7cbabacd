/**
 * The preview's memory sink: it holds at most its cap (a message whose size was not known ahead
 * cannot grow past it), hands nothing out before the engine closed it, and forgets on abort.
 */
import { describe, expect, test } from 'vitest';
import { MemorySink } from '../../../../src/state/files/preview-sink';
import { expectCode, expectThrowsCode } from '../../core/helpers';

describe('MemorySink', () => {
  test('keeps copies of what is written, handed out only after close', async () => {
    const sink = new MemorySink(10);
    const chunk = Uint8Array.of(1, 2, 3);
    await sink.write(chunk);
    chunk.fill(9); // the engine may reuse its buffer
    await sink.write(Uint8Array.of(4));
    expectThrowsCode(() => sink.bytes(), 'INTERNAL_ERROR');
    expectThrowsCode(() => sink.blob('image/png'), 'INTERNAL_ERROR');
    await sink.close();
    expect(sink.bytes()).toEqual(Uint8Array.of(1, 2, 3, 4));
    const blob = sink.blob('image/png');
    expect(blob.type).toBe('image/png');
    expect(new Uint8Array(await blob.arrayBuffer())).toEqual(Uint8Array.of(1, 2, 3, 4));
    expect(sink.heldBytes).toBe(4);
  });

  test('refuses a write past the cap with PREVIEW_TOO_LARGE', async () => {
    const sink = new MemorySink(4);
    await sink.write(new Uint8Array(4));
    await expectCode(sink.write(new Uint8Array(1)), 'PREVIEW_TOO_LARGE');
    expect(sink.heldBytes).toBe(4);
  });

  test('abort forgets what it held', async () => {
    const sink = new MemorySink(8);
    await sink.write(Uint8Array.of(5, 6));
    await sink.abort();
    await sink.close();
    expect(sink.bytes()).toEqual(new Uint8Array(0));
  });

  test('guards its cap', () => {
    expectThrowsCode(() => new MemorySink(-1), 'OUT_OF_RANGE');
    expectThrowsCode(() => new MemorySink(1.5), 'OUT_OF_RANGE');
  });
});
