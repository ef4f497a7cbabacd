/**
 * The idle lock's timing (src/state/keys/idle-lock.ts) on a fake clock: it locks only after the
 * idle time without activity, activity pushes the deadline, stop() and restarts cancel it.
 */
import { describe, expect, test } from 'vitest';
import { VeilError } from '../../../../src/core/errors';
import { IdleLock, MAX_TIMER_MS, type IdleClock } from '../../../../src/state/keys/idle-lock';

/** A clock whose timers run only when advance() passes their time. */
class FakeClock implements IdleClock {
  nowMs = 0;
  #timers = new Map<number, { at: number; run: () => void }>();
  #next = 1;
  now() {
    return this.nowMs;
  }
  arms = 0;
  setTimeout(run: () => void, delayMs: number) {
    const id = this.#next++;
    this.arms++;
    // As in browsers and Node: a delay past 2^31 - 1 ms overflows and fires almost at once.
    const at = this.nowMs + (delayMs > MAX_TIMER_MS ? 1 : delayMs);
    this.#timers.set(id, { at, run });
    return id;
  }
  clearTimeout(handle: unknown) {
    this.#timers.delete(handle as number);
  }
  get pending() {
    return this.#timers.size;
  }
  advance(ms: number) {
    const end = this.nowMs + ms;
    for (;;) {
      const due = [...this.#timers.entries()]
        .filter(([, t]) => t.at <= end)
        .sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.#timers.delete(due[0]);
      this.nowMs = due[1].at;
      due[1].run();
    }
    this.nowMs = end;
  }
}

function setup() {
  const clock = new FakeClock();
  let locks = 0;
  const idle = new IdleLock(clock, () => locks++);
  return { clock, idle, locks: () => locks };
}

describe('the idle lock', () => {
  test('locks once the idle time passes with no activity, and only once', () => {
    const { clock, idle, locks } = setup();
    idle.start(1000);
    clock.advance(999);
    expect(locks()).toBe(0);
    clock.advance(1);
    expect(locks()).toBe(1);
    expect(idle.running).toBe(false);
    clock.advance(10_000);
    expect(locks()).toBe(1);
  });

  test('activity pushes the deadline to idle time after the last activity', () => {
    const { clock, idle, locks } = setup();
    idle.start(1000);
    clock.advance(600);
    idle.touch();
    clock.advance(600);
    expect(locks()).toBe(0);
    expect(idle.remainingMs()).toBe(400);
    clock.advance(399);
    expect(locks()).toBe(0);
    clock.advance(1);
    expect(locks()).toBe(1);
  });

  test('activity sets no timer of its own (one timer at most)', () => {
    const { clock, idle } = setup();
    idle.start(1000);
    for (let i = 0; i < 100; i++) idle.touch();
    expect(clock.pending).toBe(1);
  });

  test('stop() cancels; a touch when stopped does nothing; start() again restarts', () => {
    const { clock, idle, locks } = setup();
    idle.start(1000);
    idle.stop();
    clock.advance(5000);
    idle.touch();
    expect(locks()).toBe(0);
    expect(idle.remainingMs()).toBeUndefined();
    idle.start(2000);
    clock.advance(1999);
    expect(locks()).toBe(0);
    clock.advance(1);
    expect(locks()).toBe(1);
  });

  test("attack: an idle time past setTimeout's limit still locks, arming a timer only a few times", () => {
    const { clock, idle, locks } = setup();
    const idleMs = 1_000_000 * 60_000; // a planted record's 10^6 minutes
    idle.start(idleMs);
    clock.advance(1000);
    expect(clock.arms).toBe(1);
    expect(locks()).toBe(0);
    clock.advance(idleMs - 1001);
    expect(locks()).toBe(0);
    clock.advance(1);
    expect(locks()).toBe(1);
    expect(clock.arms).toBeLessThanOrEqual(Math.ceil(idleMs / MAX_TIMER_MS) + 1);
  });

  test('guard: a non-positive or non-finite idle time is refused', () => {
    const { idle } = setup();
    for (const ms of [0, -1, Number.NaN, Infinity]) {
      expect(() => idle.start(ms)).toThrow(VeilError);
    }
  });
});
