/**
 * What a preview may show and how much of the file it reads: the kind of a file from its clear
 * name's extension, the check that text is UTF-8, the size caps, and the read plan (a range of
 * frames for text, the whole file under a cap for the rest). Pure; preview-core.ts runs the plan.
 *
 * [Note: preview type from the name] The kind and the MIME type given to the Blob come from the
 * extension of the file's clear name, through the table below, and never from storage: the
 * Content-Type S3 returns is written by whoever can write the bucket, and an object labelled
 * text/html could otherwise be rendered as a page. Text must also decode as UTF-8 (fatal
 * decoding), or it is not shown. SVG is an image shown through `<img>`, where scripts never run.
 */
import { framesByteSize, framesForPlaintextRange, type FinalFrameForm } from '../../core';
import { VeilError } from '../../core/errors';

/** Most plaintext a text preview shows: the first frames that hold this many bytes. */
export const PREVIEW_TEXT_BYTES = 1024 * 1024;
/** Largest file decrypted whole for a preview (images, PDF, audio, video, text read whole). */
export const PREVIEW_MAX_BYTES = 64 * 1024 * 1024;

/** What the dialog shows a file as. */
export type PreviewKind = 'image' | 'text' | 'pdf' | 'audio' | 'video';

/** A kind and the MIME type its Blob gets. */
export interface PreviewType {
  readonly kind: PreviewKind;
  readonly mimeType: string;
}

const TEXT = 'text/plain;charset=utf-8';
/** Shown as text (in a `<pre>`, as characters: HTML source is never rendered). */
const TEXT_EXTENSIONS =
  'txt text md markdown csv tsv json jsonl log xml yaml yml toml ini conf cfg env html htm css js mjs ts svelte py rb rs go java kt c h cpp hpp cs sh sql tex srt vtt';

/** Extension (lower case, no dot) to preview type. Only these are previewed. */
const TYPES: Readonly<Record<string, PreviewType>> = {
  png: { kind: 'image', mimeType: 'image/png' },
  jpg: { kind: 'image', mimeType: 'image/jpeg' },
  jpeg: { kind: 'image', mimeType: 'image/jpeg' },
  gif: { kind: 'image', mimeType: 'image/gif' },
  webp: { kind: 'image', mimeType: 'image/webp' },
  avif: { kind: 'image', mimeType: 'image/avif' },
  bmp: { kind: 'image', mimeType: 'image/bmp' },
  ico: { kind: 'image', mimeType: 'image/x-icon' },
  svg: { kind: 'image', mimeType: 'image/svg+xml' },
  pdf: { kind: 'pdf', mimeType: 'application/pdf' },
  mp3: { kind: 'audio', mimeType: 'audio/mpeg' },
  wav: { kind: 'audio', mimeType: 'audio/wav' },
  ogg: { kind: 'audio', mimeType: 'audio/ogg' },
  oga: { kind: 'audio', mimeType: 'audio/ogg' },
  opus: { kind: 'audio', mimeType: 'audio/ogg' },
  flac: { kind: 'audio', mimeType: 'audio/flac' },
  m4a: { kind: 'audio', mimeType: 'audio/mp4' },
  aac: { kind: 'audio', mimeType: 'audio/aac' },
  mp4: { kind: 'video', mimeType: 'video/mp4' },
  m4v: { kind: 'video', mimeType: 'video/mp4' },
  webm: { kind: 'video', mimeType: 'video/webm' },
  ogv: { kind: 'video', mimeType: 'video/ogg' },
  mov: { kind: 'video', mimeType: 'video/quicktime' },
  ...Object.fromEntries(
    TEXT_EXTENSIONS.split(' ').map((ext) => [ext, { kind: 'text', mimeType: TEXT } as const]),
  ),
};

/**
 * The preview type of a file named `name` (its clear name, the last path segment), or
 * undefined when Veil does not preview that kind ([Note: preview type from the name]).
 */
export function previewTypeOf(name: string): PreviewType | undefined {
  const base = name.slice(name.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  if (dot <= 0 || dot === base.length - 1) return undefined;
  const ext = base.slice(dot + 1).toLowerCase();
  return Object.hasOwn(TYPES, ext) ? TYPES[ext] : undefined;
}

/**
 * Bytes to drop from the end of `bytes` so that a UTF-8 sequence cut by a read limit is not
 * counted as invalid: 0 when the last sequence is whole, else the bytes of its start.
 */
function cutSequenceBytes(bytes: Uint8Array): number {
  for (let back = 1; back <= Math.min(4, bytes.length); back++) {
    const byte = bytes[bytes.length - back] ?? 0;
    if ((byte & 0xc0) === 0x80) continue; // a continuation byte: look further back
    const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return needed > back ? back : 0;
  }
  return 0;
}

/**
 * `bytes` as text when they are valid UTF-8 (fatal decoding: any invalid sequence fails), else
 * undefined. When `cut` (the bytes are the first part of a longer file), a last character split
 * by the cut is left out rather than refused.
 */
export function utf8Text(bytes: Uint8Array, cut: boolean): string | undefined {
  const whole = cut ? bytes.subarray(0, bytes.length - cutSequenceBytes(bytes)) : bytes;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(whole);
  } catch {
    return undefined;
  }
}

/** What the opened object tells the plan (from the engine's OpenedObject). */
export interface PlanInput {
  readonly type: PreviewType;
  /** 'plain' objects are not encrypted: nothing authenticates them. */
  readonly objectKind: 'plain' | 'esdk-framed' | 'esdk-stream';
  readonly objectBytes: number;
  /** Known before decrypting for framed 0x0478 objects (with any padding). */
  readonly plaintextBytes: number | undefined;
  /** The frame layout of a framed 0x0478 object. */
  readonly frames?: { readonly frameBytes: number; readonly form: FinalFrameForm };
  /** The message's context marks size padding: its real size is known only at its end. */
  readonly padded: boolean;
}

/** How a preview reads the file. */
export type PreviewPlan =
  | {
      /** Only the frames that hold plaintext [0, endBytes): text of a framed object. */
      readonly mode: 'range';
      readonly endBytes: number;
      readonly plaintextBytes: number;
      /** Object bytes the frames take (without the header). */
      readonly fetchBytes: number;
    }
  | {
      /** The whole file, decrypted and authenticated before anything is shown. */
      readonly mode: 'whole';
      /** The most bytes it can hold (plaintext when known, else the stored size). */
      readonly boundBytes: number;
    };

/**
 * The read plan for a preview of `input`, with caps `textBytes` and `maxBytes`.
 * @throws VeilError PREVIEW_UNAUTHENTICATED for a plain object, PREVIEW_TOO_LARGE over the cap.
 */
export function planPreview(
  input: PlanInput,
  textBytes = PREVIEW_TEXT_BYTES,
  maxBytes = PREVIEW_MAX_BYTES,
): PreviewPlan {
  if (input.objectKind === 'plain') throw new VeilError('PREVIEW_UNAUTHENTICATED');
  const { plaintextBytes, frames } = input;
  if (input.type.kind === 'text' && frames && plaintextBytes !== undefined && !input.padded) {
    const endBytes = Math.min(plaintextBytes, textBytes);
    const { firstSeq, lastSeq } = framesForPlaintextRange(
      0,
      endBytes,
      plaintextBytes,
      frames.frameBytes,
      frames.form,
    );
    const fetchBytes = framesByteSize(
      firstSeq,
      lastSeq,
      plaintextBytes,
      frames.frameBytes,
      frames.form,
    );
    return { mode: 'range', endBytes, plaintextBytes, fetchBytes };
  }
  // A signed or non-framed message is authenticated only as a whole; a padded one ends where
  // its padding says, known only at its end: read whole, under the cap.
  const boundBytes = plaintextBytes ?? input.objectBytes;
  if (boundBytes > maxBytes) {
    throw new VeilError('PREVIEW_TOO_LARGE', `${boundBytes} bytes; the limit is ${maxBytes}`);
  }
  return { mode: 'whole', boundBytes };
}
