/**
 * TaskState, the one shape of a request a panel runs (Keys, Settings, the KMS panel): it moves
 * through working to done or failed, shows errors in ErrorNotice's words, never throws, and an
 * earlier run that settles late does not overwrite a later one.
 */
import { describe, expect, test } from 'vitest';
import { VeilError } from '../../../../src/core/errors';
import { TaskState } from '../../../../src/state/app/task.svelte';

describe('TaskState', () => {
  test('idle, then working while the work runs, then its value', async () => {
    const task = new TaskState<number>();
    expect(task.current).toEqual({ state: 'idle' });
    let finish: (value: number) => void = () => undefined;
    const running = task.run(() => new Promise<number>((resolve) => (finish = resolve)));
    expect(task.current).toEqual({ state: 'working' });
    finish(7);
    await running;
    expect(task.current).toEqual({ state: 'done', value: 7 });
  });

  test('a failure becomes a shown error, a sync throw included; run never throws', async () => {
    const task = new TaskState<number>();
    await task.run(() => Promise.reject(new VeilError('KMS_WRONG_REGION', 'eu-west-1')));
    expect(task.current).toMatchObject({ state: 'failed', error: { code: 'KMS_WRONG_REGION' } });
    await task.run(() => {
      throw new Error('boom');
    });
    expect(task.current).toMatchObject({ state: 'failed', error: { code: 'INTERNAL_ERROR' } });
  });

  test('a late answer of an earlier run does not replace the later one', async () => {
    const task = new TaskState<string>();
    let slow: (value: string) => void = () => undefined;
    const first = task.run(() => new Promise<string>((resolve) => (slow = resolve)));
    await task.run(() => Promise.resolve('second'));
    slow('first');
    await first;
    expect(task.current).toEqual({ state: 'done', value: 'second' });
  });
});
