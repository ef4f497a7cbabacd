/**
 * The append-only audit log of key use: one JSON line per operation with time, identity,
 * operation, label and result. Never key material, AAD or tokens.
 */
import { createWriteStream, type WriteStream } from 'node:fs';

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
  write(record: Omit<AuditRecord, 'time'>): void;
  close(): Promise<void>;
}

/** Opens `path` for appending (mode 0600); lines are written in order. */
export function fileAuditLog(path: string): AuditLog {
  const stream: WriteStream = createWriteStream(path, { flags: 'a', mode: 0o600 });
  return {
    write(record) {
      stream.write(`${JSON.stringify({ time: new Date().toISOString(), ...record })}\n`);
    },
    close: () => new Promise((resolve) => stream.end(resolve)),
  };
}
