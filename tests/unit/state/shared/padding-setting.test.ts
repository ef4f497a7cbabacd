/**
 * The size padding setting ([Note: size padding] in core/padding.ts): off by default, on from
 * config.json for the default target (which this browser cannot turn off), or turned on in this
 * browser for one location only; stored preferences keep it; config.json refuses an unknown
 * scheme.
 */
import { describe, expect, test } from 'vitest';
import { parseConfig } from '../../../../src/aws/config';
import { VeilError } from '../../../../src/core/errors';
import { paddingState, withLocation } from '../../../../src/state/shared/padding-setting';
import { parsePreferences } from '../../../../src/state/shared/preference-values';

const base = { region: 'us-east-1', bucket: 'veil-files' };

describe('paddingState', () => {
  test('is off by default, and on only for the location this browser turned on', () => {
    expect(paddingState({ bucket: 'b' }, 'r/', [])).toEqual({
      scheme: undefined,
      fromConfig: false,
      turnedOn: false,
    });
    const ids = withLocation([], { bucket: 'b' }, 'r/', true);
    expect(paddingState({ bucket: 'b' }, 'r/', ids).scheme).toBe('padme');
    expect(paddingState({ bucket: 'b' }, 'other/', ids).scheme).toBeUndefined();
    expect(paddingState({ bucket: 'c' }, 'r/', ids).scheme).toBeUndefined();
    expect(withLocation(ids, { bucket: 'b' }, 'r/', false)).toEqual([]);
    expect(withLocation(ids, { bucket: 'b' }, 'r/', true)).toEqual(ids);
  });

  test('config.json turns it on for everyone', () => {
    const state = paddingState({ bucket: 'b', padding: 'padme' }, 'r/', []);
    expect(state).toEqual({ scheme: 'padme', fromConfig: true, turnedOn: false });
  });
});

describe('config.json and preferences', () => {
  test('padding is parsed for the default target and each target', () => {
    expect(parseConfig(base).padding).toBeUndefined();
    const config = parseConfig({
      ...base,
      padding: 'padme',
      targets: [{ region: 'eu-west-1', bucket: 'other', padding: 'padme' }],
    });
    expect(config.padding).toBe('padme');
    expect(config.targets?.map((t) => t.padding)).toEqual(['padme', 'padme']);
  });

  test('an unknown scheme is refused', () => {
    expect(() => parseConfig({ ...base, padding: 'pad-more' })).toThrow(VeilError);
    expect(() => parseConfig({ ...base, padding: true })).toThrow(/padding/);
  });

  test('preferences keep the locations, and drop what is not a location id', () => {
    expect(parsePreferences(null).padding).toEqual([]);
    expect(parsePreferences(JSON.stringify({ padding: ['b/r/', 3, ''] })).padding).toEqual([
      'b/r/',
    ]);
  });
});
