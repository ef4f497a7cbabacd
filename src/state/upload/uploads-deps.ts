/**
 * What the Upload view's queue (uploads-core.ts) needs of the app besides the engine
 * (UploadEngine in runs.ts): the defaults of Settings, the session, the object lookup, the
 * session's keyrings, the location's size padding and its names.
 */
import type { VeilConfig } from '../../aws/config';
import type { Keyring } from '../../core/keyring';
import type { PaddingScheme } from '../../core/padding';
import type { LocationNames } from '../../transfer/location-names';
import type { WriteKeys } from '../shared/keyrings';
import type { NamesWriter } from '../shared/location-names-core';
import type { PreferenceValues } from '../shared/preference-values';
import type { ModelId } from '../shared/protection';
import type { RecordKey } from './records';
import type { UploadEngine } from './runs';

/** What the queue needs of the app, besides the engine (UploadEngine). */
export interface UploadsDeps extends UploadEngine {
  /** The defaults of Settings. */
  readonly preferences: { readonly values: Pick<PreferenceValues, 'model' | 'atRest'> };
  /** The AWS session: whether it has credentials, and its Cognito identity id ('' if none). */
  readonly session: { readonly ready: boolean; readonly identityId: string };
  /** True when the bucket holds an object named exactly `key` (a ListObjectsV2 of one). */
  objectExists(bucket: string, key: string): Promise<boolean>;
  /** The keyrings of the session's sources ([Note: keyring choice] in shared/keyrings.ts). */
  readonly keys: {
    /** writeKeys: what a new upload under `model` writes with; throws why it cannot. */
    write(model: ModelId, config: VeilConfig): WriteKeys;
    /** readKeyring: what opens the data keys of earlier uploads. */
    read(config: VeilConfig): Promise<Keyring | undefined>;
    /** keyringForKeys: a keyring for exactly these keys, if the session has them all. */
    forRecord(keys: readonly RecordKey[], config: VeilConfig): Keyring | undefined;
  };
  /**
   * The size padding of new files in the current location ([Note: size padding] in
   * core/padding.ts): the scheme, or undefined when off. Absent: off.
   */
  padding?(config: VeilConfig): PaddingScheme | undefined;
  /**
   * The current location's names (locationNames); absent: plain keys from objectKeyFor.
   */
  readonly names?: {
    /** The names an upload writes with (creates a pending location's names key with `writer`). */
    forUpload(config: VeilConfig, writer: NamesWriter | undefined): Promise<LocationNames>;
    /** A stored key's clear path below the root, or the stored key. */
    shownPath(objectKey: string): string;
  };
}
