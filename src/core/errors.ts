/**
 * The one catalogue of Veil's error codes. Every failure a person can see carries one of these
 * codes and the message here, which says what happened and what to do. Messages never hold key
 * material or plaintext; `detail` may add a non-secret specific (a field name, a byte offset).
 */
export const ERRORS = {
  // Input and programming errors.
  BAD_ARGUMENT: 'An argument was missing or of the wrong type.',
  OUT_OF_RANGE: 'A number or size was outside the range allowed.',
  // Runtime configuration (config.json).
  CONFIG_MISSING:
    'config.json could not be loaded. Whoever hosts this site must place a config.json next to index.html (see config.example.json).',
  CONFIG_INVALID: 'config.json is not valid. Fix the field named below and reload.',
  // The worker pool.
  WORKER_FAILED: 'A background worker stopped unexpectedly. Reload the page and try again.',
  WORKER_UNKNOWN_REQUEST: 'A background worker received a request it does not know.',
  // Code fetched on demand (src/core/load-once.ts).
  APP_CODE_UNAVAILABLE:
    'Part of the app could not be loaded: the network failed, or the site was updated since this page opened. Reload the page and try again.',
  // The message format (AWS Encryption SDK v2) and the keyrings.
  NO_MATCHING_EDK:
    'None of the keys at hand opens this file: it was encrypted under other keys. Use one of the keys it opens with, named in brackets.',
  NO_KEY_GIVEN:
    'No key was given, and the file is not encrypted under an AWS KMS key that could be found without one (only keys of your own AWS account are tried, or of the accounts VEIL_KMS_ACCOUNTS names). Give the key it was encrypted with (for example --key-file KEY.jwk, --hsm-proxy URL or --kms-key ARN); the keys it names follow.',
  WRONG_KEY:
    'The key has the right name but could not open the file: it is a different key with the same name. Use the original key file.',
  COMMITMENT_MISMATCH:
    'The file failed its key-commitment check: it was altered or crafted to decrypt differently. Do not trust it; ask for a fresh copy.',
  HEADER_TAMPERED:
    'The file header failed authentication: it was changed after encryption, or it was written by a faulty encryptor. Ask for a fresh copy.',
  FRAME_TAMPERED:
    'Part of the file failed authentication: it was changed or damaged after encryption. Nothing from the damaged part was released; get a fresh copy.',
  TRUNCATED:
    'The file ends before its final frame: the download or copy was cut short. Fetch the whole file again.',
  OUT_OF_ORDER:
    'The parts of the file are out of order, repeated or missing. Fetch the whole file again.',
  TRAILING_BYTES:
    'There are extra bytes after the end of the encrypted message. The file was corrupted or two files were joined; fetch it again.',
  NON_CANONICAL_IV:
    'A frame of the file has an IV that does not match its sequence number. The file was altered or written by a non-conforming tool.',
  UNSUPPORTED_VERSION:
    'This is not an AWS Encryption SDK message of a version Veil reads (1 or 2). Check that you picked an encrypted file.',
  UNSUPPORTED_SUITE:
    'The file uses an algorithm suite Veil does not read. Veil reads the committing suites 0x0478 and 0x0578.',
  NON_COMMITTING_SUITE:
    'The file uses an older algorithm suite without key commitment, which Veil refuses. Re-encrypt it with a current AWS Encryption SDK (suite 0x0478 or 0x0578).',
  MALFORMED:
    'The file is not a well-formed AWS Encryption SDK message. Check that you picked the encrypted file and that it is complete.',
  BASE64_INPUT:
    'The file looks base64-encoded. Decode it to binary first (for example with `base64 -d`).',
  TOO_MANY_EDKS:
    'The file carries more encrypted data keys than allowed. It may be crafted to slow decryption down; raise the limit only if you trust it.',
  FRAME_TOO_LARGE:
    'The file declares frames larger than Veil accepts. Raise the maximum frame size only if you trust the file.',
  NON_FRAMED_TOO_LARGE:
    'The file is a legacy non-framed message larger than Veil decrypts in memory. Re-encrypt it in framed form with a current AWS Encryption SDK.',
  SIGNATURE_INVALID:
    'The file signature does not verify: it was changed after encryption. Do not trust it; ask for a fresh copy.',
  SIGNATURE_MISSING:
    'The file is signed (suite 0x0578) and ends before its signature: the download or copy was cut short, or the signature was removed. Its last frame was not released; fetch the whole file again.',
  SIGNATURE_UNCHECKED:
    'The file is signed (suite 0x0578) and this way of opening it cannot check the signature. Decrypt the whole file as a stream (for example with `veil decrypt`), which verifies it.',
  RESERVED_CONTEXT_KEY:
    'Encryption-context keys starting with "aws-crypto-" are reserved by the AWS Encryption SDK. Rename the key.',
  CONTEXT_TOO_LARGE:
    'The encryption context is too large: it must serialize to at most 65535 bytes. Use fewer or shorter pairs.',
  CONTEXT_MISMATCH:
    'The encryption context you gave does not match the one in the file. Check the key=value pairs you expect.',
  LENGTH_MISMATCH:
    'The input did not have the length announced before encryption. The source changed while it was being read; try again.',
  KEYRING_INVALID:
    'The keyring is not configured correctly (key name, namespace or key length). Check the key file.',
  KEY_FILE_INVALID:
    'The key file is not a valid Veil key (a JWK with "kty":"oct", a base64url "k" of 16, 24 or 32 bytes and a "kid"). Check that you picked the right file.',
  // The command line.
  USAGE: 'The command line was not understood. Run `npx veil --help` for usage.',
  IO_FAILED: 'A file could not be read or written. Check the path and permissions.',
  OUTPUT_EXISTS:
    'The output file already exists, and Veil does not replace a file unless told to. Choose another name, or pass --force to replace it.',
  PASSPHRASE_NEEDED:
    'The key file is a passphrase-protected backup (.jwe), and no passphrase was available. Run the command on a terminal to be asked for it, or set VEIL_KEY_PASSPHRASE.',
  INTERRUPTED:
    'Stopped by a signal (Ctrl-C or a kill) before finishing; no output was written. Run the command again.',
  INTERNAL_ERROR:
    'Something unexpected went wrong inside Veil. Please report it with the steps that led here.',
  // The HSM proxy (Model B).
  HSM_PROXY_UNREACHABLE:
    'The HSM proxy could not be reached. Try again in a moment; if it keeps failing, tell whoever hosts this site: the proxy may be down, its URL in the site’s config.json may be wrong, or (for HTTPS) its certificate may not be trusted.',
  HSM_UNAUTHENTICATED:
    'The HSM proxy did not accept your sign-in (missing, invalid or expired token). Sign in again and retry.',
  HSM_FORBIDDEN_LABEL:
    'You are not allowed to use this HSM key. Ask your administrator to grant you its label, or pick another key.',
  HSM_KEY_NOT_FOUND: 'The HSM has no key with this label. Check the label in Settings.',
  HSM_NOT_OWNER:
    'The HSM proxy opens this file’s key only for the user it was wrapped for, and that is someone else (or the key was wrapped before keys had owners and its label no longer accepts that). Ask the file’s owner to share it with you, or ask your administrator.',
  HSM_BUSY:
    'The HSM proxy is busy or restarting and retries did not get through. Wait a moment and try again.',
  HSM_PROXY_FAILED:
    'The HSM proxy failed to complete the request. Try again; if it persists, ask its administrator.',
  HSM_PROXY_INSECURE:
    'The HSM proxy URL is plain http:// to another machine, so your ID token and data keys would cross the network unencrypted. Use the proxy’s https:// URL (http:// is accepted only for this machine: 127.0.0.1, ::1 or localhost).',
  HSM_INVALID_RESPONSE:
    'The HSM proxy sent an answer Veil cannot use. Tell whoever hosts this site: the proxy URL in the site’s config.json may not point at a Veil HSM proxy.',
  // AWS access.
  CREDENTIALS_FAILED:
    'Could not obtain AWS credentials. Check the identity pool id, region and endpoint in Settings.',
  CREDENTIALS_MISSING:
    'No AWS credentials are available. Sign in or paste access keys in Settings; on the command line set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE.',
  CREDENTIALS_EXPIRED:
    'Your AWS credentials have expired and could not be renewed. Sign in again (or paste fresh keys) in Settings and retry.',
  CREDENTIALS_INVALID:
    'AWS did not accept these credentials (unknown access key or wrong secret). Check the keys you pasted or sign in again.',
  LOGIN_FAILED:
    'Sign-in failed: the user name or password is wrong, or the account is not confirmed. Check them and try again.',
  LOGIN_CHALLENGE:
    'The user pool asks for an extra sign-in step (new password, MFA) that Veil does not handle here. Complete it in the hosted sign-in page, then try again.',
  SIGN_IN_KEPT_ENDED:
    'The sign-in kept on this device has expired or was revoked, so it was removed. Sign in again.',
  SIGN_IN_KEPT_UNREADABLE:
    'The sign-in kept on this device could not be read (it was changed or damaged), so it was removed. Sign in again.',
  OIDC_STATE_MISMATCH:
    'The sign-in redirect does not match a sign-in this tab started (state mismatch or replay). Start the sign-in again from Settings.',
  OIDC_FAILED:
    'The sign-in provider refused the login or the token exchange. Start the sign-in again; if it keeps failing, ask your administrator to check the app client settings.',
  // AWS KMS (Model C).
  KMS_ACCESS_DENIED:
    'AWS KMS denied access to the key. Ask your administrator to allow your identity to use this key (key policy or IAM policy, including any encryption-context conditions).',
  KMS_KEY_DISABLED:
    'The KMS key is disabled. Ask its administrator to enable it; nothing encrypted under it can be opened until then.',
  KMS_KEY_PENDING_DELETION:
    'The KMS key is scheduled for deletion. Ask its administrator to cancel the deletion now: once deleted, every file encrypted under it is lost for good.',
  KMS_KEY_UNAVAILABLE:
    'The KMS key cannot be used in its current state (for example pending import or its custom key store is disconnected). Ask its administrator.',
  KMS_KEY_NOT_FOUND:
    'The KMS key was not found. Check the alias or ARN and that the region in Settings (or --region) is the key’s region.',
  KMS_WRONG_REGION:
    'The KMS key lives in a different region from the one Veil can reach. Use a key in the configured region, or change the region (and KMS endpoint).',
  KMS_CONTEXT_MISMATCH:
    'AWS KMS refused to unwrap the data key: the encryption context differs from the one it was wrapped with, or the wrapped key was altered. The file cannot be opened as it is.',
  KMS_WRONG_KEY:
    'The file’s data key was wrapped by a different KMS key than the one Veil asked to use. Decrypt with the key named in the file.',
  KMS_THROTTLED:
    'AWS KMS is throttling requests (too many in a short time) and retries did not get through. Wait a minute and try again.',
  KMS_INVALID_RESPONSE:
    'AWS KMS returned a response Veil cannot use (wrong key id or data key length). Check the KMS endpoint setting.',
  KMS_KEY_INVALID:
    'The KMS key cannot be used for this: it must be a symmetric ENCRYPT_DECRYPT key, named by alias, alias ARN, key id or key ARN.',
  KMS_FAILED: 'AWS KMS could not complete the request. Check your network and try again.',
  // S3, on every path: uploads, downloads, listings, the Settings checks ([Note: AWS failures]
  // in core/aws-failure.ts). The detail says what Veil was doing ("upload UploadPart: ...").
  S3_REJECTED:
    'S3 refused the request. Check the bucket name, the object key, your permissions under the prefix (s3:GetObject to download; s3:PutObject, s3:AbortMultipartUpload and s3:ListMultipartUploadParts to upload; s3:ListBucket to list; s3:DeleteObject to delete) and any bucket policy; what Veil was doing and the S3 error name follow.',
  S3_UNREACHABLE:
    'S3 could not be reached from this page: the network is down, the S3 endpoint is wrong, or the bucket’s CORS rules do not allow this site. Check the connection and the endpoint; if they work, add the CORS rule (shown below when known; S3 console: Permissions, CORS) to the bucket, then try again. An upload keeps its finished parts and resumes where it stopped.',
  S3_RETRIES_EXHAUSTED:
    'S3 kept failing on network or server errors after several retries. Check your connection and try again: an upload keeps its finished parts and resumes where it stopped; a download starts over unless Veil offers to continue it.',
  // Uploads (src/transfer).
  UPLOAD_CORS_HEADERS:
    'The bucket’s CORS rules do not let the browser read the ETag and checksum headers of S3 responses, which uploads need. Add the CORS rule shown below to the bucket (S3 console: Permissions, CORS), then try again.',
  UPLOAD_CANCELLED:
    'The upload was cancelled. Nothing was kept in the bucket; start it again to upload the file.',
  UPLOAD_FILE_UNREADABLE:
    'The file could not be read (it was moved, deleted or changed while uploading). Pick the file again and resume.',
  RESUME_FILE_MISMATCH:
    'This is not the file the unfinished upload was started with (name, size, date or first bytes differ). Pick the same file, or discard the unfinished upload.',
  RESUME_UPLOAD_GONE:
    'The unfinished upload no longer exists in the bucket (it was aborted or expired by a lifecycle rule). Discard it and upload the file again.',
  RESUME_FILE_CHANGED:
    'The file changed after part of it was sent (same name, size and date, different content). Continuing would encrypt new content under the key already used for the old, so the unfinished upload was discarded; the file is uploaded again as a new encrypted object with a fresh key. If that did not start, upload the file again.',
  RESUME_UNVERIFIABLE:
    'This unfinished upload cannot be checked against the file (it was started by an older Veil, or the bucket holds a part it has no record of), so it was discarded rather than continued; the file is uploaded again with a fresh key. If that did not start, upload the file again.',
  UPLOAD_RECORD_UNWRITABLE:
    'The browser could not save the upload’s resume record (storage full or blocked), and no part is sent before its record is saved. Free some browser storage or allow site data, then try again.',
  RESUME_UPLOAD_BUSY:
    'This upload is in progress in another tab of Veil. Let it finish there, or close that tab and try again here.',
  // Downloads (src/transfer/download*.ts).
  DOWNLOAD_OBJECT_CHANGED:
    'The object changed in the bucket while it was being downloaded (its ETag differs between requests). Nothing was kept; download it again.',
  DOWNLOAD_CORS_HEADERS:
    'The bucket’s CORS rules do not let the browser read the ETag of S3 responses, which downloads need to notice a changed object. Add the CORS rule shown below to the bucket, then try again.',
  DOWNLOAD_CANCELLED: 'The download was cancelled. The partial file was discarded.',
  DOWNLOAD_SAVE_FAILED:
    'The file could not be written where you chose to save it (disk full, permission withdrawn or the file was removed). Nothing usable was kept; pick another place and try again.',
  // Download as ZIP (src/state/files/zip-*.ts).
  ZIP_FILE_FAILED:
    'A file of the selection could not be downloaded, so the ZIP was stopped and not saved. The file and the reason are named below: download that file alone to see what it needs, or leave it out of the selection.',
  ZIP_NOTHING:
    'The selection holds no files (its folders are empty), so there is nothing to put in a ZIP. Select files or a folder that holds some.',
  // Preview in the page (src/state/files/preview-*.ts).
  PREVIEW_UNSUPPORTED:
    'No preview for this kind of file: Veil previews images, text, PDF, audio and video, known by the file name’s extension. Download it to open it with an app.',
  PREVIEW_TOO_LARGE:
    'This file is larger than a preview decrypts in the page (the limit is named below). Nothing was decrypted; download it instead.',
  PREVIEW_NOT_TEXT:
    'This file is named as text, but its content is not UTF-8 text, so it is not shown. Download it to open it with an app.',
  PREVIEW_UNAUTHENTICATED:
    'This file is not encrypted, so nothing proves its content is what was stored: a preview shows only content whose authentication passed. Download it if you trust the bucket.',
  // Rewrap: changing the keys of a stored message without touching its body (core/rewrap-header.ts,
  // src/transfer/rewrap*.ts).
  REWRAP_SIGNED_MESSAGE:
    'This file is signed (suite 0x0578): its signature covers the header, so its keys cannot be changed without encrypting the whole file again. Download it and upload it again with Veil (which writes unsigned 0x0478 files), then change its keys.',
  REWRAP_LAST_KEY:
    'This change would leave the file with no key that opens it. Add the new key first (or in the same change), then remove the old one.',
  REWRAP_WOULD_LOCK_OUT:
    'After this change no key you hold would open the file (the keys left are ones you cannot use, or the key added does not open it for you). Nothing was changed. Keep one of your keys, or add a key you hold (and give it to open with) in the same change.',
  REWRAP_KEY_NOT_FOUND:
    'The file has no key of the name given to remove. Check the key name as `veil inspect` or the file details show it.',
  REWRAP_NOT_A_MESSAGE:
    'This object is not an AWS Encryption SDK message, so it has no keys to change. Upload it again encrypted, or pick an encrypted object.',
  REWRAP_SOURCE_CHANGED:
    'The object changed in the bucket while its keys were being changed (its ETag differs). Nothing was replaced and the other change was kept; check the object and run the change again.',
  REWRAP_UNSUPPORTED_OBJECT:
    'Veil cannot change the keys of this object in place: it is stored with S3 server-side encryption under a customer-provided key (SSE-C), which Veil does not hold. Download it and upload it again.',
  REWRAP_VERSION_CURRENT:
    'This is the current version of the object, not a previous one: deleting it would delete the file. Nothing was deleted; check the version id (the previous one is in the rewrap result).',
  REWRAP_RECORD_UNWRITABLE:
    'The resume record of this change of keys could not be saved (storage full or blocked), and no part is sent before it is. Nothing was changed; free some storage (browser site data, or the disk on the command line) and try again.',
  REWRAP_RESUME_GONE:
    'This unfinished change of keys cannot be resumed: it finished or was discarded, its upload expired in the bucket, or its record no longer matches the object. Nothing was changed by the resume; run the change again.',
  REWRAP_CANCELLED:
    'Changing the keys was cancelled. The object was left as it was and nothing was kept in the bucket.',
  // Private names and the binding of an object to its location (core/names.ts, core/location.ts).
  NAME_INVALID:
    'A file or folder name must not be empty, ".", ".." or hold a "/" or a control character. Rename it and try again.',
  NAME_TOO_LONG:
    'With private names this path would make an S3 key longer than 1,024 bytes, which S3 refuses. Nothing was uploaded; shorten the file name or the folders above it.',
  NAME_UNREADABLE:
    'This object’s name cannot be opened with the names key of this location: it was written under another names key, or its key was changed in the bucket. It is shown by its stored key; nothing was changed.',
  NAMES_KEY_UNREADABLE:
    'The names key of this location could not be opened, so file names cannot be shown or written. Add the key it was encrypted with (Keys, or sign in for an HSM or KMS key), then reload. Nothing was written.',
  NAMES_NEED_ENCRYPTION:
    'This location keeps file names private, and only encrypted files can go there: an upload without a key would leave its name and content readable. Choose a key (A, B or C) and upload again, or pick another location.',
  NAMES_KEY_INVALID:
    'The names key object of this location is not a Veil names key (wrong size, purpose or location). Nothing was written; ask whoever manages the bucket to check the object named below.',
  OBJECT_MISMATCH:
    'This object is not the file stored under this name: it is bound to another location (swapped or moved by the storage), or it is unencrypted where only encrypted files are kept. Nothing from it was released; do not trust it, and restore the file from a version or a copy you trust.',
  // Size padding ([Note: size padding] in core/padding.ts).
  PADDING_INVALID:
    'The file says its size is padded, but the padding at its end is not the 0x80 byte and zeros Veil writes. The output was discarded; the file was written by a faulty tool. Fetch it again or open it with an AWS Encryption SDK and inspect its end.',
  PADDING_UNKNOWN:
    'The file is padded with a scheme this version of Veil does not know (named below). Update Veil, or open it with an AWS Encryption SDK: the padding follows the content.',
  // A file's versions in a versioned bucket (state/files/versions-core.ts).
  VERSIONS_DENIED:
    'S3 refused a request on this file’s versions. Listing them needs s3:ListBucketVersions, downloading or restoring one s3:GetObjectVersion (and s3:PutObject to restore), deleting one s3:DeleteObjectVersion. Ask your administrator to allow it under your prefix; nothing was changed.',
  VERSIONS_CHANGED:
    'The file’s versions changed since they were listed (another upload, restore or delete). Nothing was changed; look at the list again and retry.',
  VERSION_RESTORE_UNSUPPORTED:
    'Veil cannot restore this version inside S3: it is larger than 5 GiB, the most one copy can take, or it is stored under a customer-provided key (SSE-C) that Veil does not hold. Nothing was changed; download the version and upload it again.',
  VERSION_RESTORE_REGRANTS:
    'Making this version current again would give back access that was taken away: it still holds the key of a share link that was revoked or of a person whose access was removed (named below), which the newer version does not. A revoked link would open again and the person could read the file again, without the links list showing it. Nothing was changed. To get this content back, download that version and upload it again, which writes it under a fresh data key with only the keys you choose; restoring it and revoking again afterwards would leave the access open in between.',
  MOVE_DESTINATION_EXISTS:
    'A file of that name already exists where this one was to go. Nothing was moved or overwritten; pick another name, or move or delete the other file first.',
  // The app's key choices (src/state/shared/keyrings.ts).
  NO_KEY_FOR_OBJECT:
    'None of the keys at hand opens this object. Add the key it was encrypted with: in the app, pick or import its key file (Keys) or sign in for an HSM or KMS key; on the command line, pass --key-file or --hsm-proxy. The keys it needs are named below.',
  VAULT_KEY_MISSING:
    'That key is not in this browser’s vault. Import its key file or backup in Keys, or choose another key in Settings.',
  MODEL_NOT_CONFIGURED:
    'This key model is not set up for this deployment (config.json names no HSM proxy or KMS key for it). Choose another model, or ask whoever hosts Veil to configure it.',
  // Keys view: key names, key files and passphrase backups (src/state/keys*.ts, src/keyrings/key-backup.ts).
  KEY_NAME_INVALID:
    'A key name must be 1 to 64 letters, digits, dots, dashes or underscores, and not the name of another key in this browser. Choose another name.',
  KEY_NAME_TAKEN:
    'Another key in this browser already has this name. The name is bound into every object it encrypts: delete or rename the other key first, or import under its own name.',
  KEY_SAVE_FAILED:
    'The file could not be saved (the save was refused or the disk is full). Try again and pick another place; the key itself is unchanged.',
  BACKUP_PASSPHRASE_WEAK:
    'The passphrase is too short for a key backup: use at least 12 characters (four random words are a good choice), and keep it somewhere safe.',
  BACKUP_INVALID:
    'This file is not a Veil key backup (a JWE protected with a passphrase: PBES2 key wrapping and A256GCM, holding a key file). Check that you picked the right file.',
  BACKUP_WRONG_PASSPHRASE:
    'The passphrase does not open this backup (or the backup was altered). Check the passphrase, which is case-sensitive, and try again.',
  // The vault's lock: passkey (WebAuthn PRF) or passphrase unlock, export later (src/state/keys/vault-seal.ts, vault-lock-core.ts).
  VAULT_LOCKED:
    'The key vault in this browser is locked, so its keys cannot be used. Unlock it on Keys with your passkey or the vault passphrase, then try again.',
  VAULT_UNLOCK_FAILED:
    'The vault did not unlock: the passphrase is wrong, or the passkey is not one registered for this vault. Check the passphrase (it is case-sensitive), or use another passkey or the passphrase.',
  VAULT_ENTRY_TAMPERED:
    'A key stored in this browser’s vault failed its integrity check: it was changed outside Veil, so it was not used. Delete it on Keys and import it again from its key file or backup.',
  VAULT_LOCK_INVALID:
    'The vault’s lock record in this browser is damaged or of an unknown version, so the vault cannot be unlocked here. Import your keys again from their key files or backups in a fresh browser profile.',
  VAULT_LOCK_EXISTS:
    'The vault already has a lock. Unlock it, then add a passkey or change the settings instead of setting a new lock.',
  VAULT_REAUTH_NEEDED:
    'Exporting a key, or adding a passkey, needs a fresh unlock: confirm with your passkey or the vault passphrase, then do it within 2 minutes.',
  VAULT_KEY_NOT_EXPORTABLE:
    'This key was stored before the vault had a lock, as a key no script can read back, so it cannot be exported. Use its key file or backup; importing one of them again puts the key under the lock and makes it exportable.',
  VAULT_LAST_METHOD:
    'The passphrase is the vault’s fallback and cannot be removed. Remove a passkey instead, or keep the passphrase.',
  VAULT_UNLOCK_CANCELLED:
    'Cancelled: the vault stayed locked, so this was not done and nothing was changed. Try again when you are ready to unlock it.',
  PASSKEY_UNAVAILABLE:
    'This browser or passkey cannot unlock the vault: it lacks WebAuthn’s PRF extension, which derives the vault’s unlock key. Use the vault passphrase, or a recent Chrome, Edge or Safari with a passkey provider that supports PRF.',
  PASSKEY_CANCELLED:
    'The passkey request was cancelled or timed out, or no passkey of this vault is on this device. Try again, or unlock with the vault passphrase.',
  // Share links (core/share-link.ts, aws/share-link.ts).
  SHARE_LINK_BAD_ANSWER:
    'The place this link points to did not answer as S3 does: it sent something other than the part of the file that was asked for. Nothing was saved. Ask the sender for a new link.',
  SHARE_LINK_MALFORMED:
    'This share link is incomplete or damaged (its part after # cannot be read). Copy the whole link again, or ask for a new one.',
  SHARE_LINK_EXPIRED:
    'This share link has expired: its download address is no longer accepted. Ask the person who shared the file for a new link.',
  SHARE_LINK_REVOKED:
    'This share link was revoked: the file no longer holds its key, so it cannot be opened with it. Ask the person who shared the file for a new link.',
  SHARE_LINK_NOT_FOUND:
    'The file has no active share link with this id. Nothing was changed; list the links (veil share --list, or Share link… in Files) to see their ids.',
  SHARE_LIST_CHANGED:
    'The file’s list of links was changed by someone else while it was being rebuilt, or it can be read again. Nothing was written; close the Share dialog and open it again.',
  SHARE_LIST_REBUILD_FAILED:
    'The file’s list of links could not be written, so it was left as it was and every link still works as before. Check the connection and your permission to write under .veil/links/ (s3:PutObject), then rebuild the list again; the S3 error follows.',
  SHARE_TOO_LARGE_IN_MEMORY:
    'This browser can neither save a file through a save dialog nor stream it through a service worker, so the file would be held in memory, and it is larger than the limit named below. Open the link in a recent Chrome, Edge, Firefox or Safari.',
  // Sharing with people: key pairs, the people directory, inboxes (src/keyrings/raw-rsa.ts, src/transfer/people-*.ts).
  PERSON_UNKNOWN:
    'No one with that fingerprint is in this bucket’s people directory. Ask the person to publish their public key (Keys, “Publish my public key”), check the fingerprint, and try again.',
  PERSON_KEY_CHANGED:
    'The public key stored for this person is not the one you confirmed before: its fingerprint changed. Whoever can write to the bucket may have swapped it. Compare the new fingerprint with the person by another channel, and confirm it only if it matches.',
  PERSON_ENTRY_INVALID:
    'An entry of the people directory is not valid (a field is missing, or its fingerprint does not match its public key). It was not used; ask the person to publish their public key again.',
  PRIVATE_KEY_INVALID:
    'The private key is not an RSA key of at least 2048 bits in PKCS#8 PEM (“-----BEGIN PRIVATE KEY-----”), nor a Veil backup of one. Export it again from Keys (“Export private key”).',
  KEY_PAIR_MISSING:
    'There is no key pair of yours in this browser. Create one, or restore its backup, in Keys (“Your key pair”), then try again.',
  INBOX_ENTRY_INVALID:
    'A file shared with you could not be read: its note in your inbox is damaged or was not written for you. Ask the person who shared it to share it again.',
  RECORD_TOO_LARGE:
    'An item Veil keeps in the bucket (an inbox note, a people directory entry or a file’s list of share links) is larger than any Veil writes, so it was not read: whoever can write to the bucket may have put it there to slow this page down. The other items are read as usual; ask the bucket’s owner to delete that object.',
  // Settings: check connection (src/state/settings/connection-checks.ts).
  CONNECTION_CORS_BLOCKED:
    'S3 can be reached, but the bucket’s CORS rules do not allow this site, so the browser may not read its answers. Add the CORS rule shown below to the bucket (S3 console: Permissions, CORS), then check again.',
} as const;

export type ErrorCode = keyof typeof ERRORS;

/** An error with a stable code from the catalogue. `detail` is non-secret context. */
export class VeilError extends Error {
  override readonly name = 'VeilError';
  readonly code: ErrorCode;
  readonly detail: string | undefined;

  constructor(code: ErrorCode, detail?: string, options?: { cause?: unknown }) {
    super(detail ? `${ERRORS[code]} (${detail})` : ERRORS[code], options);
    this.code = code;
    this.detail = detail;
  }
}

/** True when `value` is a code of the catalogue (used when an error crosses a worker boundary). */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERRORS, value);
}

/**
 * Guard for public entries: throws VeilError(code) when the precondition does not hold.
 * Use it with a comment stating the precondition.
 */
export function needs(condition: unknown, code: ErrorCode, detail?: string): asserts condition {
  if (!condition) throw new VeilError(code, detail);
}
