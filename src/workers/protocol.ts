/**
 * The one message protocol between the page and Veil's module workers. Requests and replies are
 * discriminated unions keyed by `type`; every request carries an `id` that its reply echoes. A
 * failure crosses as `{ ok: false, code, message }` and is rebuilt into a VeilError on the page.
 * Big buffers cross by transfer, never by copy (see src/transfer/browser/worker-pool.ts).
 */
import type { ErrorCode } from '../core/errors';
import type { BuiltPart, PartJob, PartRunJob } from '../transfer/build-part';
import type { FramesJob } from '../transfer/download-frames';

export const PROTOCOL_VERSION = 5;

export type WorkerRequest =
  | { id: number; type: 'ping'; sentAtMs: number }
  /** Build (read and, with a cipher, encrypt) one upload part; see src/transfer/build-part.ts. */
  | { id: number; type: 'buildPart'; job: PartJob }
  /** Build a run of consecutive parts in one job ([Note: part runs] in build-part.ts). */
  | { id: number; type: 'buildParts'; job: PartRunJob }
  /** Decrypt one ranged GET of whole frames; see src/transfer/download-frames.ts. */
  | { id: number; type: 'decryptFrames'; job: FramesJob }
  /** Zero and drop the read buffers the worker keeps between jobs (part-reader.ts). */
  | { id: number; type: 'wipeBuffers' };

export type WorkerReplyBody =
  | {
      type: 'ping';
      protocolVersion: number;
      sentAtMs: number;
      /** True when the worker sees WebCrypto (crypto.subtle), which every later job needs. */
      webCrypto: boolean;
    }
  | {
      type: 'buildPart';
      /** The part's bytes; the buffer was transferred to the page. */
      bytes: Uint8Array<ArrayBuffer>;
      plaintextBytes: number;
      buildMs: number;
      /** The part's CRC-32 (base64) when the worker computed it; see BuiltPart. */
      checksumCrc32?: string;
      /** The keyed digest of the part's plaintext; see BuiltPart. */
      plaintextDigest?: string;
    }
  | {
      type: 'buildParts';
      /** The parts in order; every buffer was transferred to the page. */
      parts: BuiltPart[];
    }
  | {
      type: 'decryptFrames';
      /** Each frame's plaintext, in order, released only after every tag verified; transferred. */
      plaintext: readonly Uint8Array<ArrayBuffer>[];
      decryptMs: number;
    }
  | {
      type: 'wipeBuffers';
      /** How many kept buffers were zeroed and dropped. */
      wiped: number;
    };

export type WorkerReply =
  | { id: number; ok: true; body: WorkerReplyBody }
  | { id: number; ok: false; code: ErrorCode; message: string; detail?: string };

/** The reply body type that answers a given request type. */
export type ReplyFor<T extends WorkerRequest['type']> = Extract<WorkerReplyBody, { type: T }>;

/** A request as the caller writes it; the client assigns the id. */
export type RequestInput = WorkerRequest extends infer R
  ? R extends WorkerRequest
    ? Omit<R, 'id'>
    : never
  : never;
