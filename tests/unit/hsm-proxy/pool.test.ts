import { describe, expect, test } from 'vitest';
import type { Pkcs11Token } from '../../../server/hsm-proxy/src/pkcs11';
import { SessionPool } from '../../../server/hsm-proxy/src/pool';

/** Stands in for the token: counts sessions, which are plain buffers. */
function fakeToken() {
  const state = { opened: 0, closed: 0 };
  const token = {
    openSession: () => Buffer.from([++state.opened]),
    closeSession: () => void state.closed++,
  } as unknown as Pkcs11Token;
  return { token, state };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

describe('SessionPool', () => {
  test('gives each operation a session of its own and never opens more than its size', async () => {
    const { token, state } = fakeToken();
    const pool = new SessionPool(token, 3);
    const inUse = new Set<string>();
    let overlap = false;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 50 }, () =>
        pool.use(async (session) => {
          const id = session.handle.toString('hex');
          if (inUse.has(id)) overlap = true;
          inUse.add(id);
          peak = Math.max(peak, inUse.size);
          await tick();
          inUse.delete(id);
        }),
      ),
    );
    expect(overlap).toBe(false);
    expect(peak).toBe(3);
    expect(state.opened).toBe(3);
  });

  test('replaces a session the token reports closed', async () => {
    const { token, state } = fakeToken();
    const pool = new SessionPool(token, 1);
    const gone = Object.assign(new Error('CKR_SESSION_HANDLE_INVALID'), { code: 0xb3 });
    await expect(pool.use(() => Promise.reject(gone))).rejects.toBe(gone);
    expect(state.closed).toBe(1);
    await pool.use(() => Promise.resolve());
    expect(state.opened).toBe(2);
  });

  test('drain waits for running and queued work, then closes every session and refuses more', async () => {
    const { token, state } = fakeToken();
    const pool = new SessionPool(token, 1);
    const finished: number[] = [];
    const work = [1, 2, 3].map((n) =>
      pool.use(async () => {
        await tick();
        finished.push(n);
      }),
    );
    await tick();
    await pool.drain();
    expect(finished).toEqual([1, 2, 3]);
    expect(state.closed).toBe(state.opened);
    await Promise.all(work);
    await expect(pool.use(() => Promise.resolve())).rejects.toMatchObject({
      code: 'HSM_UNAVAILABLE',
    });
  });

  test('refuses a size below one', () => {
    expect(() => new SessionPool(fakeToken().token, 0)).toThrow(RangeError);
  });
});

describe('SessionPool when the token loses a session', () => {
  test('a request waiting for the lost session gets a new one', async () => {
    const { token, state } = fakeToken();
    const pool = new SessionPool(token, 1);
    const gone = Object.assign(new Error('CKR_SESSION_HANDLE_INVALID'), { code: 0xb3 });
    const first = pool.use(async () => {
      await tick();
      throw gone;
    });
    const second = pool.use((session) => Promise.resolve(session.handle[0]));
    await expect(first).rejects.toBe(gone);
    expect(await second).toBe(2);
    expect(state).toEqual({ opened: 2, closed: 1 });
    await pool.drain();
  });

  test('a request that waits too long is refused with HSM_UNAVAILABLE', async () => {
    const pool = new SessionPool(fakeToken().token, 1, 20);
    let release: () => void = () => undefined;
    const holder = pool.use(() => new Promise<void>((resolve) => (release = resolve)));
    await expect(pool.use(() => Promise.resolve())).rejects.toMatchObject({
      code: 'HSM_UNAVAILABLE',
    });
    release();
    await holder;
  });
});
