/**
 * The module worker entry. No logic lives here: it forwards each request to its handler and sends
 * the reply (big buffers by transfer), turning any failure into `{ ok: false, code, message }`
 * (see protocol.ts).
 */
import { VeilError } from '../core/errors';
import { buildPart, buildParts, wipeKeptBuffers } from '../transfer/build-part';
import { decryptFrames } from '../transfer/download-frames';
import { PROTOCOL_VERSION, type WorkerReply, type WorkerRequest } from './protocol';

// The app's tsconfig has the DOM lib; a worker's global scope needs only these two members.
interface WorkerScope {
  onmessage: ((event: MessageEvent<WorkerRequest>) => void) | null;
  postMessage(message: WorkerReply, transfer?: Transferable[]): void;
}
const scope = self as unknown as WorkerScope;

type Answer = { reply: WorkerReply; transfer: Transferable[] };

async function handle(request: WorkerRequest): Promise<Answer> {
  switch (request.type) {
    case 'ping':
      return {
        reply: {
          id: request.id,
          ok: true,
          body: {
            type: 'ping',
            protocolVersion: PROTOCOL_VERSION,
            sentAtMs: request.sentAtMs,
            webCrypto: typeof crypto !== 'undefined' && typeof crypto.subtle !== 'undefined',
          },
        },
        transfer: [],
      };
    case 'buildPart': {
      const part = await buildPart(request.job);
      return {
        reply: { id: request.id, ok: true, body: { type: 'buildPart', ...part } },
        transfer: [part.bytes.buffer],
      };
    }
    case 'buildParts': {
      const parts = await buildParts(request.job);
      return {
        reply: { id: request.id, ok: true, body: { type: 'buildParts', parts } },
        transfer: parts.map((part) => part.bytes.buffer),
      };
    }
    case 'decryptFrames': {
      const opened = await decryptFrames(request.job);
      return {
        reply: { id: request.id, ok: true, body: { type: 'decryptFrames', ...opened } },
        transfer: opened.plaintext.map((frame) => frame.buffer),
      };
    }
    case 'wipeBuffers':
      return {
        reply: {
          id: request.id,
          ok: true,
          body: { type: 'wipeBuffers', wiped: wipeKeptBuffers() },
        },
        transfer: [],
      };
    default: {
      const unknown = request as { id: number; type: string };
      throw Object.assign(new VeilError('WORKER_UNKNOWN_REQUEST', unknown.type), {
        requestId: unknown.id,
      });
    }
  }
}

function failure(id: number, error: unknown): WorkerReply {
  return error instanceof VeilError
    ? { id, ok: false, code: error.code, message: error.message, detail: error.detail }
    : {
        id,
        ok: false,
        code: 'WORKER_FAILED',
        message: String(error),
        detail: error instanceof Error ? error.name : undefined,
      };
}

scope.onmessage = (event: MessageEvent<WorkerRequest>) => {
  const request = event.data;
  handle(request).then(
    ({ reply, transfer }) => {
      // A reply that cannot be posted (a buffer it cannot transfer) still answers the request.
      try {
        scope.postMessage(reply, transfer);
      } catch (error) {
        scope.postMessage(failure(request.id, error));
      }
    },
    (error: unknown) => scope.postMessage(failure(request.id, error)),
  );
};
