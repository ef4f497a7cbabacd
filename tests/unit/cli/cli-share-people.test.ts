/**
 * The pure parts of `veil cp '<link>'`, `veil share` on several files and `veil people publish`:
 * which text is a link, the checks a link fails before any request (its own expiry, a damaged
 * payload), a public key PEM read into SPKI (and PKCS#1 or garbage refused), fingerprints as
 * typed, the bulk runner's reporting, and the usage errors `veil share` gives before it reaches S3.
 */
import { describe, expect, it } from 'vitest';
import { downloadLink, folderFileName, isShareLink } from '../../../src/cli/cp-link';
import { pemToSpki, publishPerson } from '../../../src/cli/people-publish';
import { share, type ShareCommand } from '../../../src/cli/share';
import { typedFingerprint } from '../../../src/cli/share-person';
import { eachTarget } from '../../../src/cli/share-targets';
import { toBase64 } from '../../../src/core/bytes';
import { VeilError } from '../../../src/core/errors';
import { shareLinkUrl, type SharePayload } from '../../../src/core/share-link';
import type { PeopleStorage } from '../../../src/transfer/people-directory';

const APP = 'https://veil.example/';
const payload: SharePayload = {
  url: 'https://s3.example/bucket/key?X-Amz-Signature=abc',
  bucket: 'bucket',
  key: 'key',
  linkId: 'AAAAAAAAAAAAAAAAAAAAAA',
  linkKey: new Uint8Array(32).fill(7),
  sizeBytes: 10,
  sharedBy: 'Ada',
  expiresAtMs: 2_000_000_000_000,
};

/** A fetch that must not be called. */
const noFetch = (() => {
  throw new Error('fetched');
}) as unknown as typeof fetch;

async function codeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'resolved',
    (error: unknown) => (error instanceof VeilError ? error.code : String(error)),
  );
}

describe('isShareLink', () => {
  it('is true for an http(s) URL with a share route only', () => {
    expect(isShareLink(shareLinkUrl(APP, payload))).toBe(true);
    expect(isShareLink('http://127.0.0.1:5173/#/share/abc')).toBe(true);
    expect(isShareLink('s3://bucket/key')).toBe(false);
    expect(isShareLink('report#/share/x.pdf')).toBe(false);
    expect(isShareLink('https://veil.example/#/files')).toBe(false);
  });
});

describe('downloadLink before any request', () => {
  it('an expired link is SHARE_LINK_EXPIRED without fetching', async () => {
    const link = shareLinkUrl(APP, { ...payload, expiresAtMs: 1000 });
    const code = await codeOf(
      downloadLink({ link, to: '/nonexistent/out', force: false, fetchFn: noFetch }),
    );
    expect(code).toBe('SHARE_LINK_EXPIRED');
  });

  it('a cut or altered payload is SHARE_LINK_MALFORMED without fetching', async () => {
    const link = shareLinkUrl(APP, payload);
    for (const bad of [link.slice(0, -5), `${link}!`, `${APP}#/share/`]) {
      const code = await codeOf(
        downloadLink({ link: bad, to: '/nonexistent/out', force: false, fetchFn: noFetch }),
      );
      expect(code, bad.slice(-10)).toBe('SHARE_LINK_MALFORMED');
    }
  });
});

describe('folderFileName: the name a link chooses, inside the folder the user named', () => {
  it.each([
    ['.bash_aliases', '_bash_aliases'],
    ['..profile', '__profile'],
    ['..', '__'],
    ['..\\..\\x.bat', '___.._x.bat'],
    ['a/b', 'a_b'],
    ['C:evil', 'C_evil'],
    ['report.v2.pdf', 'report.v2.pdf'],
    ['', '_'],
  ])('%j becomes %j', (name, safe) => {
    expect(folderFileName(name)).toBe(safe);
  });
});

describe('pemToSpki', () => {
  const spki = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
  const pem = (label: string, body: string) =>
    `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;

  it('reads the DER of a PUBLIC KEY block, wrapped or not', () => {
    const body = toBase64(spki);
    expect(pemToSpki(pem('PUBLIC KEY', body))).toEqual(spki);
    expect(
      pemToSpki(`text before\n${pem('PUBLIC KEY', body.replace(/(.{64})/g, '$1\n'))}`),
    ).toEqual(spki);
  });

  it('refuses PKCS#1, a private key and no block, saying what it is', () => {
    for (const text of [
      pem('RSA PUBLIC KEY', toBase64(spki)),
      pem('PRIVATE KEY', toBase64(spki)),
      'not a key',
    ]) {
      expect(() => pemToSpki(text)).toThrow(VeilError);
    }
    expect(() => pemToSpki(pem('RSA PUBLIC KEY', 'AAAA'))).toThrow(/openssl rsa/);
  });
});

describe('publishPerson', () => {
  const storage: PeopleStorage = {
    read: () => Promise.reject(new Error('read')),
    createOnly: () => Promise.reject(new Error('written')),
    list: () => Promise.reject(new Error('listed')),
  };

  it('refuses a missing name, or a key given twice or not at all, before writing', async () => {
    const prefix = '.veil/people/';
    expect(await codeOf(publishPerson(storage, prefix, { publicKeyFile: 'k' }, undefined))).toBe(
      'USAGE',
    );
    expect(await codeOf(publishPerson(storage, prefix, { publicKeyFile: 'k' }, 'A\u202eB'))).toBe(
      'USAGE',
    );
    expect(await codeOf(publishPerson(storage, prefix, {}, 'Bea'))).toBe('USAGE');
    const both = { publicKeyFile: 'a', privateKeyFile: 'b' };
    expect(await codeOf(publishPerson(storage, prefix, both, 'Bea'))).toBe('USAGE');
  });
});

describe('typedFingerprint', () => {
  it('takes the groups of four in any case', () => {
    const hex = 'ab12'.repeat(16);
    expect(typedFingerprint(hex.toUpperCase().replace(/(.{4})/g, '$1 '))).toBe(hex);
  });
});

describe('eachTarget', () => {
  const a = { bucket: 'b', key: 'a' };
  const b = { bucket: 'b', key: 'b' };
  const c = { bucket: 'b', key: 'c' };

  it('one target: its error as it is, nothing warned', async () => {
    const warned: string[] = [];
    const error = new VeilError('S3_REJECTED', 'NoSuchKey');
    await expect(
      eachTarget(
        [a],
        () => Promise.reject(error),
        (l) => warned.push(l),
      ),
    ).rejects.toBe(error);
    expect(warned).toEqual([]);
  });

  it('several: every target is tried, each failure named, the first thrown', async () => {
    const warned: string[] = [];
    const done: string[] = [];
    const first = new VeilError('S3_REJECTED', 'NoSuchKey');
    const run = (target: { key: string }) => {
      if (target.key === 'a') return Promise.reject(first);
      if (target.key === 'c') return Promise.reject(new VeilError('TOO_MANY_EDKS'));
      done.push(target.key);
      return Promise.resolve();
    };
    await expect(eachTarget([a, b, c], run, (l) => warned.push(l))).rejects.toBe(first);
    expect(done).toEqual(['b']);
    expect(warned).toHaveLength(2);
    expect(warned[0]).toMatch(/^failed s3:\/\/b\/a: S3_REJECTED/);
    expect(warned[1]).toMatch(/^failed s3:\/\/b\/c: TOO_MANY_EDKS/);
  });
});

describe('veil share usage, before any request', () => {
  const base: ShareCommand = {
    keys: { keyFiles: ['k.jwk'], hsmKeys: [], kmsKeys: [] },
    s3: {},
    targets: [{ bucket: 'b', key: 'k' }],
    includeName: false,
    list: false,
    print: () => undefined,
    env: {},
  };
  const two = [
    { bucket: 'b', key: 'k' },
    { bucket: 'b', key: 'l' },
  ];

  it.each([
    ['--list on two files', { list: true, targets: two }],
    ['--revoke on two files', { revoke: 'AAAAAAAAAAAAAAAAAAAAAA', targets: two }],
    ['--person and --expires', { person: 'a'.repeat(64), expires: '1h' }],
    ['--name without --person', { expires: '1h', appUrl: APP, name: 'x' }],
    ['--people-root with --unshare-person', { unsharePerson: 'a'.repeat(64), peopleRoot: 'p/' }],
    ['--label with --unshare-person', { unsharePerson: 'a'.repeat(64), label: 'Al' }],
    ['--name on two files', { person: 'a'.repeat(64), name: 'x', targets: two }],
    ['--unshare-person that is no fingerprint', { unsharePerson: 'bea' }],
    ['--delete-older-versions with --expires', { expires: '1h', deleteOlderVersions: true }],
    [
      '--delete-older-versions with --person',
      { person: 'a'.repeat(64), deleteOlderVersions: true },
    ],
    ['--delete-older-versions with --list', { list: true, deleteOlderVersions: true }],
    ['no mode', {}],
  ] as const)('%s is USAGE', async (_name, change) => {
    expect(await codeOf(share({ ...base, ...change }))).toBe('USAGE');
  });
});
