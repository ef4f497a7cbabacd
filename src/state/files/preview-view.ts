/**
 * What the preview dialog shows (preview-core.ts decides it, preview.svelte.ts makes it
 * reactive). Pure types.
 */
import type { ShownError } from '../app/shown-error';
import type { PreviewKind } from './preview-kind';

/** Where a preview is, and what it shows. */
export type PreviewView =
  | { readonly state: 'idle' }
  /** Opening the object: its header, the data key, the binding. */
  | { readonly state: 'opening'; readonly name: string }
  /** Reading and decrypting: object bytes fetched (when counted) of those to fetch. */
  | {
      readonly state: 'loading';
      readonly name: string;
      readonly doneBytes: number | undefined;
      readonly totalBytes: number;
    }
  /** Text: the first `shownBytes` of `totalBytes` (cut when fewer). */
  | {
      readonly state: 'text';
      readonly name: string;
      readonly text: string;
      readonly shownBytes: number;
      readonly totalBytes: number;
      readonly cut: boolean;
    }
  /** An image, PDF, audio or video as a `blob:` URL of the authenticated plaintext. */
  | {
      readonly state: 'media';
      readonly name: string;
      readonly kind: Exclude<PreviewKind, 'text'>;
      readonly url: string;
      readonly sizeBytes: number;
    }
  /** Refused or failed; `downloadInstead` when the file is fine and Download is the way on. */
  | {
      readonly state: 'failed';
      readonly name: string;
      readonly error: ShownError;
      readonly downloadInstead: boolean;
    };
