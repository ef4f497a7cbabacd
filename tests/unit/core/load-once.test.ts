import { describe, expect, test } from 'vitest';
import { VeilError } from '../../../src/core/errors';
import { loadOnce } from '../../../src/core/load-once';

describe('loadOnce', () => {
  test('runs the load once for every caller and keeps the module', async () => {
    let calls = 0;
    const module = { name: 'view' };
    const lazy = loadOnce(() => {
      calls += 1;
      return Promise.resolve(module);
    });
    expect(lazy.current).toBeUndefined();
    const [a, b] = await Promise.all([lazy.load(), lazy.load()]);
    expect(a).toBe(module);
    expect(b).toBe(module);
    expect(await lazy.load()).toBe(module);
    expect(lazy.current).toBe(module);
    expect(calls).toBe(1);
  });

  test('a failed fetch is APP_CODE_UNAVAILABLE, is not kept, and the next call tries again', async () => {
    let calls = 0;
    const lazy = loadOnce(() => {
      calls += 1;
      return calls === 1
        ? Promise.reject(
            new TypeError('Failed to fetch dynamically imported module: /assets/Files-x.js'),
          )
        : Promise.resolve('loaded');
    });
    const failure = await lazy.load().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(VeilError);
    expect((failure as VeilError).code).toBe('APP_CODE_UNAVAILABLE');
    expect((failure as VeilError).message).toMatch(
      /^Part of the app could not be loaded.*Reload the page/,
    );
    expect((failure as VeilError).detail).toContain('Failed to fetch');
    expect(lazy.current).toBeUndefined();
    await expect(lazy.load()).resolves.toBe('loaded');
    expect(lazy.current).toBe('loaded');
    expect(calls).toBe(2);
  });

  test('a catalogued error from the module passes through with its own code', async () => {
    const lazy = loadOnce(() => Promise.reject(new VeilError('CONFIG_INVALID', 'region')));
    await expect(lazy.load()).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });
});
