/**
 * The module worker entry. No logic lives here: it forwards each request to its handler and sends
 * the reply, turning any failure into `{ ok: false, code, message }` (see protocol.ts).
 */
import { VeilError } from '../core/errors';
import { PROTOCOL_VERSION, type WorkerReply, type WorkerRequest } from './protocol';

// The app's tsconfig has the DOM lib; a worker's global scope needs only these two members.
interface WorkerScope {
  onmessage: ((event: MessageEvent<WorkerRequest>) => void) | null;
  postMessage(message: WorkerReply): void;
}
const scope = self as unknown as WorkerScope;

function handle(request: WorkerRequest): WorkerReply {
  switch (request.type) {
    case 'ping':
      return {
        id: request.id,
        ok: true,
        body: {
          type: 'ping',
          protocolVersion: PROTOCOL_VERSION,
          sentAtMs: request.sentAtMs,
          webCrypto: typeof crypto !== 'undefined' && typeof crypto.subtle !== 'undefined',
        },
      };
    default: {
      const unknown = request as { id: number; type: string };
      throw Object.assign(new VeilError('WORKER_UNKNOWN_REQUEST', unknown.type), {
        requestId: unknown.id,
      });
    }
  }
}

scope.onmessage = (event: MessageEvent<WorkerRequest>) => {
  const request = event.data;
  let reply: WorkerReply;
  try {
    reply = handle(request);
  } catch (error) {
    reply =
      error instanceof VeilError
        ? {
            id: request.id,
            ok: false,
            code: error.code,
            message: error.message,
            detail: error.detail,
          }
        : { id: request.id, ok: false, code: 'WORKER_FAILED', message: String(error) };
  }
  scope.postMessage(reply);
};
