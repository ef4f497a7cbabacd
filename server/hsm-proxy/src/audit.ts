/**
 * The append-only audit log of key use: one JSON line per operation with time, caller, operation,
 * label, how the wrap was bound, digests of the wrapped key and of the AAD, and the result; never
 * key material, AAD or tokens. Lines form a hash chain ([Note: audit hash chain]).
 *
 * A line is on disk (written and fdatasync'ed; for a device or pipe, written) before `append` resolves, and the server answers
 * only then: no data key leaves the proxy unaudited. Lines that arrive while a write is in
 * flight go out together in the next write (one fdatasync for many requests). A failed write
 * (a full disk) fails every pending line, cuts the file back to its last whole line and marks the
 * log unhealthy: key use stays refused until the proxy is restarted on a writable log.
 */
import { open, type FileHandle } from 'node:fs/promises';
import type { AuditBinding } from './ownership';
import { GENESIS, lineHash } from './audit-chain';

export type AuditOperation =
  | 'generate-data-key'
  | 'encrypt'
  | 'decrypt'
  | 'list-keys'
  | 'create-key'
  | 'xks-get-key-metadata'
  | 'xks-encrypt'
  | 'xks-decrypt'
  | 'xks-get-health-status';

/** What a line of the XKS API adds (xks/server.ts): who signed, which key, KMS's context. */
export interface XksAuditFields {
  /** The SigV4 access key id that signed; null when the signature did not verify. */
  accessKeyId: string | null;
  externalKeyId: string | null;
  /** KMS's requestMetadata (principal, KMS key ARN, operation, request id, ...), once parsed. */
  requestMetadata: Record<string, string> | null;
  /** From the request's arrival to its answer being ready, before the audit write. */
  durationMs: number;
}

export interface AuditRecord {
  time: string;
  requestId: string;
  /** The client's address (X-Forwarded-For only through trusted proxies). */
  client: string;
  identity: { sub: string; username: string } | null;
  operation: AuditOperation;
  label: string | null;
  /** Whom the wrap is bound to (`owner`, `group:<name>`), `legacy`, or null before it is known. */
  binding: AuditBinding | null;
  /**
   * SHA-256 of the wrapped key (sent or returned; for XKS, iv || ciphertext || tag), 32 hex
   * digits; null when there is none.
   */
  wrappedSha256: string | null;
  /** SHA-256 of the client's AAD, 32 hex digits; null when there is none. */
  aadSha256: string | null;
  /** `ok`, or the error code the caller received. */
  result: string;
  /** Only on lines of the XKS API. */
  xks?: XksAuditFields;
  /** SHA-256 of the previous line: [Note: audit hash chain]. */
  prev: string;
}

/** The audit line could not be made durable; the request must fail without a key. */
export class AuditError extends Error {
  override readonly name = 'AuditError';
}

export interface AuditLog {
  /** False once a write failed: key operations are then refused (no unaudited key use). */
  readonly healthy: boolean;
  /**
   * Appends one line and resolves once it is on disk.
   * @throws AuditError when the log is unhealthy or the write or sync fails.
   */
  append(record: Omit<AuditRecord, 'time' | 'prev'>): Promise<void>;
  close(): Promise<void>;
}

/** Bytes read from the end of an existing log to find its last line. */
const TAIL_BYTES = 64 * 1024;

/** The hash the next line chains from: GENESIS for an empty file, else its last line's hash. */
async function lastLineHash(
  handle: FileHandle,
  path: string,
): Promise<{ hash: string; sizeBytes: number; regular: boolean }> {
  const stats = await handle.stat();
  const size = stats.size;
  if (!stats.isFile() || size === 0) {
    return { hash: GENESIS, sizeBytes: 0, regular: stats.isFile() };
  }
  const length = Math.min(size, TAIL_BYTES);
  const tail = Buffer.alloc(length);
  await handle.read(tail, 0, length, size - length);
  if (tail[length - 1] !== 0x0a) {
    throw new Error(
      `the audit log ${path} ends in an incomplete line: run "npm run audit:verify -- ${path}", keep the file as evidence and start the proxy on a new one`,
    );
  }
  const start = tail.lastIndexOf(0x0a, length - 2) + 1;
  if (start === 0 && size > length) throw new Error(`the last line of ${path} is over 64 KiB`);
  return {
    hash: lineHash(tail.subarray(start, length - 1).toString('utf8')),
    sizeBytes: size,
    regular: true,
  };
}

async function writeAll(handle: FileHandle, bytes: Buffer): Promise<void> {
  for (let at = 0; at < bytes.length;) {
    const { bytesWritten } = await handle.write(bytes, at, bytes.length - at, null);
    if (bytesWritten <= 0) throw new Error('the audit log accepted no bytes');
    at += bytesWritten;
  }
}

interface Pending {
  bytes: Buffer;
  resolve: () => void;
  reject: (error: AuditError) => void;
}

/**
 * Opens `path` for appending (mode 0600) and chains on from its last line. A wrong path fails
 * here, at start.
 * @throws Error when the file cannot be opened or ends in an incomplete line.
 */
export async function openAuditLog(path: string): Promise<AuditLog> {
  const handle = await open(path, 'a+', 0o600);
  let chain: Awaited<ReturnType<typeof lastLineHash>>;
  try {
    chain = await lastLineHash(handle, path);
  } catch (error) {
    await handle.close();
    throw error;
  }
  let previousHash = chain.hash;
  let durableBytes = chain.sizeBytes;
  let healthy = true;
  let writing = false;
  const queue: Pending[] = [];

  const fail = (pending: Pending[], cause: unknown): void => {
    if (healthy) {
      healthy = false;
      const reason = cause instanceof Error ? cause.message : String(cause);
      console.error(`audit log ${path} failed: ${reason}; refusing key operations`);
    }
    for (const item of pending)
      item.reject(new AuditError('the audit line could not be written', { cause }));
  };

  const pump = async (): Promise<void> => {
    if (writing) return;
    writing = true;
    while (queue.length > 0) {
      const batch = queue.splice(0);
      const bytes = Buffer.concat(batch.map((item) => item.bytes));
      try {
        await writeAll(handle, bytes);
        // A device or pipe (a log shipper's FIFO) cannot be synced: its write is what counts.
        if (chain.regular) await handle.datasync();
        durableBytes += bytes.length;
        for (const item of batch) item.resolve();
      } catch (error) {
        // Leave the file ending in a whole line where possible, so it still verifies.
        if (chain.regular) await handle.truncate(durableBytes).catch(() => undefined);
        fail([...batch, ...queue.splice(0)], error);
      }
    }
    writing = false;
  };

  return {
    get healthy() {
      return healthy;
    },
    append(record) {
      if (!healthy) return Promise.reject(new AuditError('the audit log is not writable'));
      const line = JSON.stringify({
        time: new Date().toISOString(),
        ...record,
        prev: previousHash,
      });
      previousHash = lineHash(line);
      return new Promise<void>((resolve, reject) => {
        queue.push({ bytes: Buffer.from(`${line}\n`, 'utf8'), resolve, reject });
        void pump();
      });
    },
    async close() {
      while (writing || queue.length > 0) await new Promise((resolve) => setTimeout(resolve, 5));
      await handle.close();
    },
  };
}
