/**
 * The per-upload Web Lock ([Note: upload locks]): one tab at a time may run, resume or discard a
 * multipart upload. A fresh upload takes the lock of its new upload id before its resume record is
 * written (the engine's onUploadCreated) and holds it while its row holds the upload; a resume
 * from the unfinished list and a discard take it first. Another tab then sees RESUME_UPLOAD_BUSY
 * instead of continuing or aborting an upload that is running. Web Locks are released by the
 * browser when the tab closes. Without Web Locks (old browsers) nothing is guarded.
 */
import { VeilError } from '../../core/errors';
import { uploadLockName } from './records';

function locks(): LockManager | undefined {
  return typeof navigator === 'undefined' ? undefined : navigator.locks;
}

/**
 * Runs `task` holding the Web Lock of `uploadId`.
 * @throws VeilError RESUME_UPLOAD_BUSY when another tab holds it; whatever `task` throws.
 */
export async function withUploadLock(uploadId: string, task: () => Promise<void>): Promise<void> {
  const manager = locks();
  if (!manager) return task();
  await manager.request(uploadLockName(uploadId), { ifAvailable: true }, async (lock) => {
    if (!lock) throw new VeilError('RESUME_UPLOAD_BUSY');
    await task();
  });
}

/**
 * Takes the Web Lock of `uploadId` and holds it until the returned function is called.
 * @throws VeilError RESUME_UPLOAD_BUSY when another tab holds it.
 */
export function holdUploadLock(uploadId: string): Promise<() => void> {
  const manager = locks();
  if (!manager) return Promise.resolve(() => undefined);
  return new Promise((held, refused) => {
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    manager
      .request(uploadLockName(uploadId), { ifAvailable: true }, async (lock) => {
        if (!lock) throw new VeilError('RESUME_UPLOAD_BUSY');
        held(release);
        await released;
      })
      .catch(refused);
  });
}
