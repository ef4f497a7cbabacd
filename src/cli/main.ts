/**
 * The `veil` command line (bin/veil.mjs runs it: runProgram), on the same core as the app:
 *
 *   veil encrypt KEYS [--frame-bytes N] [--context k=v]... [--force] IN OUT
 *   veil decrypt [KEYS] [--force] IN OUT
 *   veil inspect IN [KEYS]
 *   veil keygen OUT.jwk [--kid NAME] [--namespace NS]
 *   veil cp KEYS [--context k=v]... FILE s3://BUCKET/KEY        (cp.ts, cp-upload.ts)
 *   veil cp [KEYS] [--force] s3://BUCKET/KEY FILE|-              (cp-download.ts)
 *   veil cp [--force] '<share link>' FILE|-                      (cp-link.ts, cp-link-stdout.ts)
 *   veil ls [KEYS] s3://BUCKET[/PREFIX]                          (ls.ts)
 *   veil mv [KEYS] [--dry-run] s3://BUCKET/PATH s3://BUCKET/NEWPATH (mv.ts)
 *   veil names init KEYS s3://BUCKET/PREFIX/                     (names-init.ts)
 *   veil names rotate KEYS [--dry-run] s3://BUCKET/ROOT/         (names-rotate.ts)
 *   veil rewrap [KEYS] CHANGES [--dry-run] s3://BUCKET/KEY|s3://BUCKET/PREFIX/|FILE (rewrap.ts)
 *   veil share KEYS --expires D [--app-url URL] [--include-name] s3://BUCKET/KEY... (share.ts)
 *   veil share KEYS --list [--json] s3://BUCKET/KEY              (share-list.ts)
 *   veil share KEYS --private-key-file MINE.pem --person FP s3://BUCKET/KEY...  (share-person.ts)
 *   veil share KEYS --unshare-person FP [--delete-older-versions] s3://BUCKET/KEY...
 *   veil people ls|show [FINGERPRINT] s3://BUCKET/ROOT/          (people.ts)
 *   veil people publish --public-key-file F|--private-key-file F --name NAME s3://BUCKET/ROOT/
 *
 * KEYS are any of --key-file KEY.jwk|BACKUP.jwe (Model A), --hsm-proxy URL --hsm-key LABEL
 * (Model B, with the ID token in VEIL_HSM_TOKEN) and --kms-key ALIAS|ARN [--region R]
 * [--endpoint-url URL] (Model C); --key-file, --hsm-key and --kms-key repeat, and every one is
 * kept (see keyrings.ts for how they combine); any other option given twice is a usage error
 * (options.ts). In a location with private names, ls and cp take and show clear keys ([Note:
 * names on the command line] in names.ts).
 *
 * Exit 0 on success. On failure: one line on stderr that starts with the error code, exit 1
 * (2 for usage errors; 130 and 143 on SIGINT and SIGTERM), and OUT does not exist unless it
 * existed before. An existing OUT is replaced only with --force (atomically, by rename).
 * bin/veil.mjs silences the AWS SDK's Node-version notice, so that line is the only one.
 * `veil --help` prints the whole usage, `veil COMMAND --help` that command's (usage-text.ts).
 */
import { contextFromPairs } from '../core/encryption-context';
import { VeilError } from '../core/errors';
import { DEFAULT_MAX_FRAME_BYTES } from '../core/header';
import { errorLine } from './error-line';
import { discardPendingOutputs } from './files';
import { copy, parsePadding } from './cp';
import { inspectFile } from './inspect';
import { writeNewKeyFile } from './key-files';
import type { KeyringFlags } from './keyrings';
import { listObjects } from './ls';
import { moveObjects } from './mv';
import { initNames } from './names-init';
import { rotateNames } from './names-rotate';
import { KEY_OPTIONS, parseCommandLine } from './options';
import { rewrap } from './rewrap';
import { cancelRunningRewraps } from './rewrap-s3';
import { people } from './people';
import { parseS3Url } from './s3-url';
import { share } from './share';
import { decryptFile, encryptFile } from './transcode';
import { USAGE_TEXT, commandHelp } from './usage-text';

function usage(detail: string): never {
  throw new VeilError('USAGE', detail);
}

function parseFrameBytes(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[0-9]+$/.test(text)) usage('--frame-bytes takes a whole number of bytes');
  const frameBytes = Number(text);
  if (frameBytes < 1 || frameBytes > DEFAULT_MAX_FRAME_BYTES) {
    usage(`--frame-bytes must be 1..${DEFAULT_MAX_FRAME_BYTES} (64 MiB)`);
  }
  return frameBytes;
}

function positionals(values: readonly string[], names: readonly string[]): readonly string[] {
  if (values.length !== names.length) usage(`expected ${names.join(' ')}`);
  return values;
}

async function run(argv: readonly string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${USAGE_TEXT}\n`);
    return;
  }
  const help = rest.includes('--help') || rest.includes('-h') ? commandHelp(command) : undefined;
  if (help !== undefined) {
    process.stdout.write(`${help}\n`);
    return;
  }
  const { values, positionals: args } = parseCommandLine(command, rest);
  const keys: KeyringFlags = {
    keyFiles: values['key-file'] ?? [],
    privateKeyFiles: values['private-key-file'] ?? [],
    hsmProxy: values['hsm-proxy'],
    hsmKeys: values['hsm-key'] ?? [],
    kmsKeys: values['kms-key'] ?? [],
    region: values.region,
    endpointUrl: values['endpoint-url'],
  };
  const anyKey = KEY_OPTIONS.some((name) => name in values);
  switch (command) {
    case 'encrypt': {
      const [inPath = '', outPath = ''] = positionals(args, ['IN', 'OUT']);
      await encryptFile({
        keys,
        inPath,
        outPath,
        frameBytes: parseFrameBytes(values['frame-bytes']),
        encryptionContext: contextFromPairs(values.context ?? []),
        force: values.force === true,
      });
      return;
    }
    case 'decrypt': {
      const [inPath = '', outPath = ''] = positionals(args, ['IN', 'OUT']);
      await decryptFile({ keys, inPath, outPath, force: values.force === true });
      return;
    }
    case 'inspect': {
      const [inPath = ''] = positionals(args, ['IN']);
      await inspectFile({
        inPath,
        keys: anyKey ? keys : undefined,
        print: (text) => process.stdout.write(`${text}\n`),
      });
      return;
    }
    case 'keygen': {
      const [outPath = ''] = positionals(args, ['OUT.jwk']);
      const keyName = await writeNewKeyFile(outPath, values.kid, values.namespace);
      process.stderr.write(`wrote ${outPath} (key name "${keyName}", mode 0600)\n`);
      return;
    }
    case 'cp': {
      const [from = '', to = ''] = positionals(args, ['FROM', 'TO']);
      await copy({
        keys,
        s3: { region: values.region, endpointUrl: values['endpoint-url'] },
        from,
        to,
        extraContext: contextFromPairs(values.context ?? []),
        force: values.force === true,
        padding: parsePadding(values.pad),
      });
      return;
    }
    case 'ls': {
      const [location = ''] = positionals(args, ['s3://BUCKET[/PREFIX]']);
      await listObjects({
        s3: { region: values.region, endpointUrl: values['endpoint-url'] },
        keys,
        location: parseS3Url(location, 'prefix'),
        print: (line) => process.stdout.write(`${line}\n`),
      });
      return;
    }
    case 'mv': {
      const [from = '', to = ''] = positionals(args, ['s3://BUCKET/PATH', 's3://BUCKET/NEWPATH']);
      await moveObjects({
        keys,
        s3: { region: values.region, endpointUrl: values['endpoint-url'] },
        from,
        to,
        dryRun: values['dry-run'] === true,
        print: (line) => process.stdout.write(`${line}\n`),
      });
      return;
    }
    case 'names': {
      const [action = '', location = ''] = positionals(args, [
        'init|rotate',
        's3://BUCKET/PREFIX/',
      ]);
      const s3 = { region: values.region, endpointUrl: values['endpoint-url'] };
      const print = (line: string) => process.stdout.write(`${line}\n`);
      if (action === 'rotate') {
        await rotateNames({
          keys,
          s3,
          location: parseS3Url(location, 'prefix'),
          dryRun: values['dry-run'] === true,
          print,
        });
        return;
      }
      if (action !== 'init') {
        usage(`unknown names action "${action}": veil names init|rotate s3://BUCKET/PREFIX/`);
      }
      if (values['dry-run'] === true) usage('--dry-run applies to veil names rotate');
      await initNames({ keys, s3, location: parseS3Url(location, 'prefix'), print });
      return;
    }
    case 'rewrap': {
      const [target = ''] = positionals(args, ['TARGET']);
      await rewrap({
        keys,
        change: {
          addKeyFiles: values['add-key-file'] ?? [],
          addKmsKeys: values['add-kms-key'] ?? [],
          addHsmKeys: values['add-hsm-key'] ?? [],
          removeKeys: values['remove-key'] ?? [],
        },
        target,
        dryRun: values['dry-run'] === true,
        deletePreviousVersion: values['delete-previous-version'] === true,
        print: (line) => process.stdout.write(`${line}\n`),
      });
      return;
    }
    case 'people': {
      const show = args[0] === 'show';
      const [action = '', ...rest] = positionals(
        args,
        show
          ? ['show', 'FINGERPRINT', 's3://BUCKET/ROOT/']
          : ['ls|show|publish', 's3://BUCKET/ROOT/'],
      );
      await people({
        action,
        ...(show ? { fingerprint: rest[0] ?? '' } : {}),
        publicKeyFile: values['public-key-file'],
        privateKeyFile: values['private-key-file']?.[0],
        name: values.name,
        location: parseS3Url(rest.at(-1) ?? '', 'prefix'),
        s3: { region: values.region, endpointUrl: values['endpoint-url'] },
        print: (line) => process.stdout.write(`${line}\n`),
      });
      return;
    }
    case 'share': {
      if (args.length === 0) usage('expected s3://BUCKET/KEY (one or more)');
      await share({
        keys,
        s3: { region: values.region, endpointUrl: values['endpoint-url'] },
        targets: args.map((target) => parseS3Url(target, 'object')),
        expires: values.expires,
        appUrl: values['app-url'],
        includeName: values['include-name'] === true,
        label: values.label,
        revoke: values.revoke,
        list: values.list === true,
        json: values.json === true,
        person: values.person,
        unsharePerson: values['unshare-person'],
        deleteOlderVersions: values['delete-older-versions'] === true,
        name: values.name,
        peopleRoot: values['people-root'],
        print: (line) => process.stdout.write(`${line}\n`),
      });
      return;
    }
  }
}

/** Longest wait for running rewraps to abort their uploads after a signal, in milliseconds. */
const CANCEL_BOUND_MS = 10_000;
/** Set once a signal arrived: the command's own failure (a cancel) is then not printed too. */
let exiting = false;

/**
 * Runs one command line (`argv`: the words after `veil`) to its end and returns the exit status:
 * 0, or after the one error line on stderr 1 (2 for usage errors, 130 for an interrupt). It
 * writes through process.stdout and process.stderr and reads process.env and the working
 * folder; runProgram runs it for the process, the integration tests also in theirs
 * (tests/integration/support/cli-in-process.ts).
 */
export async function runCommandLine(argv: readonly string[]): Promise<number> {
  try {
    await run(argv);
    return 0;
  } catch (error) {
    if (exiting) await new Promise<never>(() => undefined); // the signal handler exits
    process.stderr.write(`${errorLine(error).replace(/\s*\n\s*/g, ' ')}\n`);
    const code = error instanceof VeilError ? error.code : undefined;
    // Ctrl-C at the passphrase prompt (raw mode: no SIGINT) exits as an interrupt would.
    return code === 'USAGE' ? 2 : code === 'INTERRUPTED' ? 130 : 1;
  }
}

/** The `veil` process (bin/veil.mjs calls it): signal handling, then this process's command line. */
export async function runProgram(): Promise<void> {
  // On Ctrl-C (SIGINT) or SIGTERM: stop the pipes, remove the temporary outputs, exit 128+signal.
  for (const [signal, exitCode] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.once(signal, () => {
      exiting = true;
      const interrupted = new VeilError('INTERRUPTED', signal);
      discardPendingOutputs(interrupted);
      process.stderr.write(`${errorLine(interrupted)}\n`);
      // A rewrap aborts its multipart uploads first; a request that hangs does not hold the exit.
      setTimeout(() => process.exit(exitCode), CANCEL_BOUND_MS);
      void cancelRunningRewraps().finally(() => process.exit(exitCode));
    });
  }
  process.exitCode = await runCommandLine(process.argv.slice(2));
}
