/**
 * The append-only audit log of key use: one JSON line per operation with time, identity,
 * operation, label and result. Never key material, AAD or tokens.
 */
import { createWriteStream, openSync, type WriteStream } from 'node:fs';

export type AuditOperation =
  'generate-data-key' | 'encrypt' | 'decrypt' | 'list-keys' | 'create-key';

export interface AuditRecord {
  time: string;
  requestId: string;
  identity: { sub: string; username: string } | null;
  operation: AuditOperation;
  label: string | null;
  /** `ok`, or the error code the caller received. */
  result: string;
}

export interface AuditLog {
  /** False once a write failed: key operations are then refused (no unaudited key use). */
  readonly healthy: boolean;
  write(record: Omit<AuditRecord, 'time'>): void;
  close(): Promise<void>;
}

/**
 * Opens `path` for appending (mode 0600) now, so a wrong path fails at start; lines are written
 * in order. A failed write (a full disk) marks the log unhealthy instead of crashing the proxy.
 */
export function fileAuditLog(path: string): AuditLog {
  const stream: WriteStream = createWriteStream(path, { fd: openSync(path, 'a', 0o600) });
  let healthy = true;
  stream.on('error', (error) => {
    healthy = false;
    console.error(`audit log ${path} failed: ${error.message}; refusing key operations`);
  });
  return {
    get healthy() {
      return healthy;
    },
    write(record) {
      stream.write(`${JSON.stringify({ time: new Date().toISOString(), ...record })}\n`);
    },
    close: () => new Promise((resolve) => stream.end(resolve)),
  };
}
