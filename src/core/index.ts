/**
 * The public surface of Veil's encryption core: AWS Encryption SDK v2 messages on WebCrypto.
 * Writers produce suite 0x0478, framed, ending an exact multiple of the frame length with an
 * empty final frame ([Note: empty final frame] in sizes.ts); readers take both final-frame forms,
 * 0x0478 and 0x0578, framed and non-framed.
 */
export { ERRORS, VeilError, isErrorCode, needs } from './errors';
export type { ErrorCode } from './errors';
export { loadOnce, type LoadOnce } from './load-once';
export {
  anyFailure,
  credentialErrorCode,
  errorName,
  failureDetail,
  httpStatusOf,
  isNoAnswer,
  isTransient,
  kmsFailure,
  retriesFailure,
  s3Failure,
} from './aws-failure';
export type { AwsCallContext } from './aws-failure';
export type { EncryptionContext } from './encryption-context';
export {
  assertWritableContext,
  contextFromPairs,
  parseEncryptionContext,
  serializeEncryptionContext,
} from './encryption-context';
export type { ContentType, HeaderLimits, MessageHeader } from './header';
export { DEFAULT_MAX_ENCRYPTED_DATA_KEYS, DEFAULT_MAX_FRAME_BYTES, tryParseHeader } from './header';
export type {
  DecryptRequest,
  EncryptRequest,
  EncryptResult,
  EncryptedDataKey,
  Keyring,
} from './keyring';
export { createMultiKeyring } from './multi-keyring';
export type { MultiKeyringOptions } from './multi-keyring';
export {
  createMessageHeader,
  openMessageHeader,
  openMessageKeys,
  parseHeaderBytes,
} from './message';
export type { OpenedKeys, OpenOptions, WriteOptions, WrittenHeader } from './message';
export { openDataKey, rewrapHeader, rewriteHeader } from './rewrap-header';
export type {
  RewrapHeaderOptions,
  RewrapLocation,
  RewrappedHeader,
  RewriteHeaderInput,
  RewrittenHeader,
} from './rewrap-header';
export { removingLinks, splitEncryptedDataKeys } from './rewrap-keys';
export type { KeySplit, KeyToRemove } from './rewrap-keys';
export type { EdkReEncrypter } from './rewrap-reencrypt';
export type { RewrapOpening } from './rewrap-access';
export { decryptFrame, encryptFrame, readFrameHeader, sealFrame } from './frame';
export type { FrameHeader, FrameParams, SealedFrame } from './frame';
export {
  checkPlaintextRange,
  ciphertextSize,
  finalFramePlaintextBytes,
  frameCount,
  frameRange,
  framesByteSize,
  framesForPlaintextRange,
  layoutFromCiphertextSize,
  plaintextSize,
  serializedFrameBytes,
  WRITTEN_FINAL_FRAME_FORM,
} from './sizes';
export type { FinalFrameForm, FrameRange, MessageLayout } from './sizes';
export { createEncryptStream } from './encrypt-stream';
export type { EncryptStreamOptions } from './encrypt-stream';
export { DEFAULT_MAX_NON_FRAMED_BYTES, createDecryptStream } from './decrypt-stream';
export type { DecryptOptions, ExpectedLocation } from './decrypt-stream';
export { decryptBytes, encryptBytes, runTransform } from './one-shot';
export { SUITE_DESCRIPTIONS, describeHeader } from './header-view';
export {
  PERSON_PROVIDER_ID,
  RAW_AES_IV_BYTES,
  RAW_AES_TAG_BITS,
  formatFingerprint,
  isFingerprint,
  keysNeeded,
  parseRawAesProviderInfo,
  personKeyWords,
  serializeRawAesProviderInfo,
} from './provider-info';
export type { NeededKey, RawAesProviderInfo } from './provider-info';
export { escapeUntrusted } from './untrusted-text';
export { DEFAULT_KEY_NAMESPACE, parseKeyFile, serializeKeyFile } from './key-file';
export type { RawAesKeyMaterial } from './key-file';
export {
  DEFAULT_FRAME_BYTES,
  SUITE_COMMIT_KEY,
  SUITE_COMMIT_KEY_ECDSA_P384,
  suiteName,
} from './suites';
export type { CommittingSuiteId } from './suites';
/** Byte helpers for the layers above (keyed digests, resume records); not format knowledge. */
export {
  asBufferSource,
  concatBytes,
  fromBase64,
  fromUtf8,
  toBase64,
  toBase64Url,
  toHex,
  u32,
  u64,
  utf8,
} from './bytes';
export {
  LOCATION_PROVIDER_ID,
  checkLocation,
  isLocationEdk,
  keyEdks,
  locationEdk,
} from './location';
export type { BindingRule, BindingState, ObjectLocation } from './location';
export {
  MAX_OBJECT_KEY_BYTES,
  NAMES_KEY_BYTES,
  checkedSegment,
  createNameCipher,
  privateObjectKey,
} from './names';
export type { NameCipher } from './names';
export {
  PADDING_CONTEXT_KEY,
  PADDING_MARKER,
  PADDING_SCHEMES,
  paddedLength,
  paddingBytes,
  paddingOf,
  padme,
  withPadding,
} from './padding';
export type { PaddingScheme } from './padding';
export { PaddingStripper, createUnpadStream, unpadChunks, unpadWhenMarked } from './unpad';
export type { HeaderUnpad, StripperOptions } from './unpad';
export {
  LINK_ID_BYTES,
  LINK_KEY_BYTES,
  LINK_PROVIDER_ID,
  MAX_PRESIGN_SECONDS,
  SHARE_ROUTE,
  decodeSharePayload,
  encodeSharePayload,
  isExpired,
  isLinkId,
  linkExpiry,
  newLinkId,
  parseDuration,
  payloadOfLink,
  shareLinkUrl,
} from './share-link';
export type { ExpiryLimit, LinkExpiry, SharePayload } from './share-link';
export { linkKeyWords } from './provider-info';
