/**
 * Size padding of the current location ([Note: size padding] in core/padding.ts): on when
 * config.json's `padding` says so for the default target, or when this browser turned it on
 * for the location (preferences' `padding`, by locationId as for private names). Off by default.
 * Pure: the reactive wrapper is padding-setting.svelte.ts. The overhead figures shown beside the
 * setting are measured by `npm run bench:padding` (bench/padding.ts; README "Benchmarks").
 */
import type { PaddingScheme } from '../../core';
import { locationId } from './location-names-core';

/** What the setting needs of config.json. */
export interface PaddingConfig {
  readonly bucket: string;
  readonly padding?: PaddingScheme | undefined;
}

/** The setting of one location, and where it comes from. */
export interface PaddingState {
  /** The scheme new files are padded with, or undefined when off. */
  readonly scheme: PaddingScheme | undefined;
  /** config.json turns it on: this browser cannot turn it off. */
  readonly fromConfig: boolean;
  /** This browser turned it on for the location. */
  readonly turnedOn: boolean;
}

/**
 * The padding of the location `root` of `config`'s default target, given the locationIds this
 * browser turned it on for.
 */
export function paddingState(
  config: PaddingConfig,
  root: string,
  turnedOnIds: readonly string[],
): PaddingState {
  const fromConfig = config.padding !== undefined;
  const turnedOn = turnedOnIds.includes(locationId({ bucket: config.bucket, root }));
  const scheme = config.padding ?? (turnedOn ? 'padme' : undefined);
  return { scheme, fromConfig, turnedOn };
}

/** `ids` with the location `root` of `config` added (on) or removed (off). */
export function withLocation(
  ids: readonly string[],
  config: PaddingConfig,
  root: string,
  on: boolean,
): string[] {
  const id = locationId({ bucket: config.bucket, root });
  const others = ids.filter((other) => other !== id);
  return on ? [...others, id] : others;
}

/**
 * Padmé's overhead on file sizes, as measured by `npm run bench:padding` (README "Benchmarks"):
 * the mean per file over log-uniform sizes from 1 KiB to 4 GiB, the mean over the files under
 * /usr/share of a Debian machine, and the largest for any file of 1 KiB or more, in percent.
 */
export const PADME_OVERHEAD = {
  meanPercent: 1.5,
  systemMeanPercent: 2.5,
  maxPercent: 6.3,
} as const;

/** The sentence shown beside the setting. */
export function overheadText(): string {
  return (
    `Measured: it adds ${PADME_OVERHEAD.meanPercent}% on average to stored sizes ` +
    `(${PADME_OVERHEAD.systemMeanPercent}% over a system’s files), at most ` +
    `${PADME_OVERHEAD.maxPercent}% for files of 1 KiB or more; tiny files more (1 byte is stored as 2).`
  );
}
