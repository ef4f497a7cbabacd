/**
 * The text of `veil --help`, and of `veil COMMAND --help`: the usage lines of that command and
 * the sections that explain them.
 */

export const USAGE_TEXT = `Usage:
  veil encrypt KEYS [--frame-bytes N] [--context k=v]... [--force] IN OUT
  veil decrypt [KEYS] [--force] IN OUT
  veil inspect IN [KEYS]
  veil keygen OUT.jwk [--kid NAME] [--namespace NS]
  veil cp KEYS [--context k=v]... [--pad padme] FILE s3://BUCKET/KEY
                                          encrypt and upload (--pad: pad the size, below)
  veil cp [KEYS] [--force] s3://BUCKET/KEY FILE             download and decrypt (FILE -
                                          writes to stdout, only once every byte verified)
  veil cp [--force] '<share link>' FILE   download a file shared by link, with the link's
                                          key and no AWS credentials (FILE may be a folder:
                                          the name the link carries, else shared-file;
                                          FILE - writes to stdout, only once every byte
                                          verified)
  veil ls [KEYS] s3://BUCKET[/PREFIX]     each object's size, models and key names
  veil mv [KEYS] [--dry-run] s3://BUCKET/PATH s3://BUCKET/NEWPATH
                                          rename or move a file, or a folder (PATH and
                                          NEWPATH ending in /), inside one bucket and one
                                          location: each object gets a new header bound to
                                          its new key (the body copied inside S3, or sent
                                          again whole up to 5 MiB); nothing is overwritten
                                          (MOVE_DESTINATION_EXISTS); KEYS open the objects;
                                          --dry-run prints the plan
  veil names init KEYS s3://BUCKET/PREFIX/
                                          turn private names on for the location at
                                          PREFIX/: its file and folder names are stored
                                          encrypted under a names key wrapped by KEYS
  veil names rotate KEYS [--dry-run] s3://BUCKET/ROOT/
                                          a new names key for the location at ROOT/,
                                          wrapped by KEYS, and every object moved to its
                                          name under it; run again, a stopped rotation
                                          continues; --dry-run prints the plan
  veil rewrap [KEYS] CHANGES [--dry-run] s3://BUCKET/KEY | s3://BUCKET/PREFIX/ | FILE
                                          change the keys of an object, of every object
                                          under a prefix, or of a local file, without
                                          encrypting the content again (in S3 the body is
                                          copied inside S3; a file is rewritten atomically)
  veil share KEYS --expires DURATION [--app-url URL] [--include-name] [--label TEXT]
             s3://BUCKET/KEY...           print a share link: its key is added to the file
                                          (rewrap) and travels only in the link's # part;
                                          DURATION as 90s, 15m, 1h or 7d, cut to the end of
                                          the signing credentials and to 7 days (the real
                                          expiry is printed); URL from --app-url or
                                          VEIL_APP_URL; the clear name only with
                                          --include-name; for several files, one link a
                                          line on stdout (expiries on stderr)
  veil share KEYS --list [--json] s3://BUCKET/KEY
                                          what the file is shared with, from its header
                                          joined with its list of links: one line each,
                                          tab-separated (veil share --help); --json: JSON
  veil share KEYS --revoke LINK_ID [--delete-older-versions] s3://BUCKET/KEY
                                          remove that link's key from the file (rewrap):
                                          the link stops opening at once (also a link
                                          --list shows as unknown); on a versioned bucket,
                                          names the older versions that still hold its key
                                          (--delete-older-versions deletes them, never the
                                          current version)
  veil share KEYS --private-key-file MINE.pem --person FINGERPRINT [--name NAME]
             [--label ME] [--people-root PREFIX/] s3://BUCKET/KEY...
                                          share with the person the people directory has
                                          under FINGERPRINT (its entry checked against its
                                          key; PERSON_UNKNOWN if none): their key is added
                                          to the file (rewrap) and a note in their inbox,
                                          encrypted to them, names it (NAME, default the
                                          key's last segment) and you (your key pair's
                                          fingerprint and --label or your published name)
  veil share KEYS --unshare-person FINGERPRINT [--delete-older-versions] s3://BUCKET/KEY...
                                          take that person's key out of the file (rewrap);
                                          on a versioned bucket, names the older versions
                                          that still hold it (--delete-older-versions
                                          deletes them, never the current version)
  veil people ls s3://BUCKET/ROOT/        the people directory: who published a public key
                                          (fingerprint, name), and entries refused
  veil people show FINGERPRINT s3://BUCKET/ROOT/
                                          one person's entry and public key (PEM), checked;
                                          PERSON_UNKNOWN when no one has that fingerprint
  veil people publish --public-key-file KEY.pub.pem | --private-key-file KEY.pem|BACKUP.jwe
             --name NAME s3://BUCKET/ROOT/
                                          publish a public key (RSA, PEM) under NAME in the
                                          directory, as the app does; never overwrites

CHANGES (each repeats; at least one):
  --add-key-file KEY.jwk                  add a Model A key
  --add-kms-key ALIAS|ARN                 add a Model C key
  --add-hsm-key LABEL                     add a Model B key (with --hsm-proxy)
  --remove-key NAME                       remove a key, named as veil inspect or veil ls
                                          shows it; never the last key, and never so that
                                          no key you gave opens the file any more
  --dry-run                               print the plan (objects, bytes copied inside S3,
                                          bytes through this machine) and change nothing
  --delete-previous-version               on a versioned bucket, delete the version the
                                          rewrap replaced (a removed key still opens it)

KEYS (one or more; --key-file, --hsm-key and --kms-key repeat, and to encrypt, each key adds
an encrypted copy of the data key; any other option is given at most once):
  --key-file KEY.jwk|BACKUP.jwe           Model A: a key you hold (JWK file from keygen, or a
                                          passphrase backup from the app; the passphrase is
                                          asked for, or read from VEIL_KEY_PASSPHRASE)
  --private-key-file KEY.pem|BACKUP.jwe   to open files shared with you as a person: your
                                          RSA private key (PKCS#8 PEM, as Keys exports it,
                                          or the app's backup of it); decrypt, cp, inspect
  --hsm-proxy URL [--hsm-key LABEL]...    Model B: HSM keys behind Veil's HSM proxy (https;
                                          http only to this machine: 127.0.0.1, ::1 or
                                          localhost); the ID token is read from VEIL_HSM_TOKEN
  --kms-key ALIAS|ARN... [--region R] [--endpoint-url URL]
                                          Model C: AWS KMS; credentials from the AWS
                                          environment variables or profiles
To decrypt, give the keys you have; with none, AWS KMS opens the key the file names (in
the region its ARN names, unless --region is given).
OUT (and FILE) is never replaced unless --force is given.

S3 (cp, ls, mv, names, rewrap): credentials from the AWS SDK's default chain
(AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, SSO, instance or container roles);
the region from --region, AWS_REGION or the profile (else us-east-1); --endpoint-url URL (or
AWS_ENDPOINT_URL) for another S3 endpoint, addressed path-style, and for KMS too when KMS is
used. Uploads send several parts at once; an interrupted upload continues when the same
command is run again (records in $XDG_STATE_HOME/veil/uploads, default
~/.local/state/veil/uploads). A download writes FILE only once every byte of the object
verified. Progress shows on a terminal.

Private names: where \`veil names init\` (or the app) made a location's names private, cp,
ls and mv take and show the clear KEY, as typed, and store it encrypted; they find the
location's names key (PREFIX/.veil/names-key) themselves and open it with KEYS (for ls: with
none, AWS KMS opens it if it can); ls sorts by clear name. There every object must be bound
to its stored key: a swapped or unencrypted object is refused (OBJECT_MISMATCH).

Size padding: cp --pad padme pads the file to a Padmé size (about 1.5% more on average, at
most 6.3% from 1 KiB up) before encrypting, so the object's size shows only its order of magnitude; the
context says veil-padding: padme. veil cp and veil decrypt strip it; other AWS Encryption SDK
readers output the file then one 0x80 byte and zeros (strip with the command in the README).

Files are AWS Encryption SDK messages (suite 0x0478, framed). The key file is a JWK:
{"kty":"oct","k":"<base64url>","kid":"<key name>","namespace":"veil"}.`;

/** The columns of `veil share --list` (share-list.ts). */
const SHARE_LIST_TEXT = `Lines of veil share --list (tab-separated, always seven columns, - for none):
  link    ID  STATE  CREATED  EXPIRES  NAME  LABEL
  person  FINGERPRINT  shared  -  -  -  -
STATE: active; expired (its URL no longer works, its key is still in the file); unknown
(its key is in the file but not in the file's list of links: revoke it with --revoke ID if
you did not make it); gone (listed, but its key is no longer in the file: it opens nothing).
A link of a rebuilt list (its details lost) is unknown with NAME -, CREATED the rebuild
(the link is older) and EXPIRES the latest its URL can work.
CREATED and EXPIRES are ISO 8601 times from the list; NAME is name-included or no-name;
LABEL is the sharer's label, unsafe characters escaped. A list that is missing or cannot be
read is reported on stderr, and the header's links are still listed.`;

/**
 * The help of one command: its usage lines (each with the lines indented below it) and, for
 * share, the columns of --list; undefined for a word that is not a command.
 */
export function commandHelp(command: string): string | undefined {
  const lines = USAGE_TEXT.split('\n');
  const picked: string[] = [];
  let inCommand = false;
  for (const line of lines) {
    if (/^ {2}veil /.test(line)) inCommand = line.startsWith(`  veil ${command} `);
    else if (!/^ {3,}/.test(line)) inCommand = false;
    if (inCommand) picked.push(line);
  }
  if (picked.length === 0) return undefined;
  const extra = command === 'share' ? `\n\n${SHARE_LIST_TEXT}` : '';
  return `Usage:\n${picked.join('\n')}${extra}\n\nveil --help shows KEYS, S3 and the other commands.`;
}
