/**
 * The upload source of a padded message ([Note: size padding] in core/padding.ts): the file
 * followed by its ISO/IEC 7816-4 padding, as one `File` the part builders slice like any other,
 * built without copying the file or holding the padding. A `Blob` made of Blobs refers to them
 * (no copy), so the padding is one 0x80 byte and repeats of one shared 1 MiB zero Blob: a 32 MiB
 * padding costs 1 MiB once, whatever the file. The same code serves the browser (a picked File)
 * and Node (a File over `fs.openAsBlob`, transfer/node/file-source.ts).
 */
import { PADDING_MARKER, paddedLength, type PaddingScheme } from '../core';

/** Bytes of the one zero Blob the padding repeats. */
const ZERO_BLOB_BYTES = 1024 * 1024;

let zeroBlob: Blob | undefined;

/** The shared zero Blob, made on first use. */
function zeros(): Blob {
  zeroBlob ??= new Blob([new Uint8Array(ZERO_BLOB_BYTES)]);
  return zeroBlob;
}

/**
 * The padding of content of `contentBytes` as a Blob: 0x80, then zeros to the Padmé length.
 * @throws VeilError OUT_OF_RANGE as paddedLength.
 */
export function paddingBlob(contentBytes: number): Blob {
  const zeroBytes = paddedLength(contentBytes) - contentBytes - 1;
  const parts: Blob[] = [new Blob([Uint8Array.of(PADDING_MARKER)])];
  const whole = Math.floor(zeroBytes / ZERO_BLOB_BYTES);
  for (let i = 0; i < whole; i++) parts.push(zeros());
  const rest = zeroBytes - whole * ZERO_BLOB_BYTES;
  if (rest > 0) parts.push(zeros().slice(0, rest));
  return new Blob(parts);
}

/**
 * What the part builders read for `file` under `scheme`: `file` itself when unpadded, else a
 * `File` of the same name, type and modification time holding `file` then its padding. The
 * resume record still identifies the file the user picked (upload-store.ts fileIdentity is
 * taken of `file`, not of this), so a padded upload resumes with the same file, padded again the
 * same way.
 */
export function paddedSource(file: File, scheme: PaddingScheme | undefined): File {
  if (scheme === undefined) return file;
  return new File([file, paddingBlob(file.size)], file.name, {
    type: file.type,
    lastModified: file.lastModified,
  });
}
