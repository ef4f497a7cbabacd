/**
 * [Note: location binding]: a bound message opens where it was written and nowhere else (another
 * key, another bucket, a swap), a missing binding is refused where bindings are required, the
 * binding cannot be stripped or forged without the data key, official client-node decrypts a
 * bound message with nothing to supply, and a rewrap can move the binding but never launders a
 * swapped object.
 */
import { describe, expect, it } from 'vitest';
import {
  checkLocation,
  decryptBytes,
  encryptBytes,
  isLocationEdk,
  keysNeeded,
  openMessageKeys,
  parseHeaderBytes,
  rewrapHeader,
  rewriteHeader,
  type ObjectLocation,
} from '../../../src/core';
import { expectCode, ourKeyring, patternBytes, peer, peerKeyring, testKeyBytes } from './helpers';

const KEY = testKeyBytes(256, 4);
const HERE: ObjectLocation = { bucket: 'veil-files', key: 'private/u1/Xk3abc/file' };
const CONTEXT = { 'veil-app': 'veil', 'veil-bucket': 'veil-files' };

async function bound(plaintext: Uint8Array, location: ObjectLocation = HERE): Promise<Uint8Array> {
  return encryptBytes(plaintext, {
    keyring: await ourKeyring(KEY, 'k1', 'veil'),
    encryptionContext: CONTEXT,
    frameBytes: 1024,
    location,
  });
}

async function opened(message: Uint8Array) {
  const header = parseHeaderBytes(message);
  const keys = await openMessageKeys(header, { keyring: await ourKeyring(KEY, 'k1', 'veil') });
  return { header, keys };
}

describe('location binding', () => {
  it('adds one binding EDK that is not a key', async () => {
    const { header } = await opened(await bound(patternBytes(10)));
    expect(header.encryptedDataKeys.filter(isLocationEdk)).toHaveLength(1);
    expect(keysNeeded(header).map((key) => key.keyName)).toEqual(['k1']);
  });

  it('opens where it was written and refuses another key or bucket', async () => {
    const plaintext = patternBytes(5000, 3);
    const message = await bound(plaintext);
    const { header, keys } = await opened(message);
    expect(await checkLocation(header, keys.locationKey, HERE, 'required')).toBe('bound');
    for (const elsewhere of [
      { ...HERE, key: `${HERE.key}2` },
      { ...HERE, bucket: 'other-bucket' },
    ]) {
      await expectCode(
        checkLocation(header, keys.locationKey, elsewhere, 'if-present'),
        'OBJECT_MISMATCH',
      );
    }
    const keyring = await ourKeyring(KEY, 'k1', 'veil');
    expect(
      await decryptBytes(message, { keyring, location: { expected: HERE, rule: 'required' } }),
    ).toEqual(plaintext);
    await expectCode(
      decryptBytes(message, {
        keyring,
        location: { expected: { ...HERE, key: 'private/u1/other' }, rule: 'if-present' },
      }),
      'OBJECT_MISMATCH',
    );
  });

  it('refuses a swap: each of two objects read under the other one’s key', async () => {
    const a = await bound(patternBytes(100, 1), { ...HERE, key: 'p/a' });
    const b = await bound(patternBytes(100, 2), { ...HERE, key: 'p/b' });
    const keyring = await ourKeyring(KEY, 'k1', 'veil');
    await expectCode(
      decryptBytes(a, {
        keyring,
        location: { expected: { ...HERE, key: 'p/b' }, rule: 'required' },
      }),
      'OBJECT_MISMATCH',
    );
    await expectCode(
      decryptBytes(b, {
        keyring,
        location: { expected: { ...HERE, key: 'p/a' }, rule: 'required' },
      }),
      'OBJECT_MISMATCH',
    );
  });

  it('treats an unbound message by the rule: let through, or refused where required', async () => {
    const unbound = await encryptBytes(patternBytes(10), {
      keyring: await ourKeyring(KEY, 'k1', 'veil'),
    });
    const { header, keys } = await opened(unbound);
    expect(await checkLocation(header, keys.locationKey, HERE, 'if-present')).toBe('unbound');
    await expectCode(checkLocation(header, keys.locationKey, HERE, 'required'), 'OBJECT_MISMATCH');
  });

  it('cannot be stripped or replaced without the data key (the header tag covers it)', async () => {
    const message = await bound(patternBytes(10));
    const header = parseHeaderBytes(message);
    const keyring = await ourKeyring(KEY, 'k1', 'veil');
    // Storage rewrites the header without the binding, keeping the old auth tag.
    const stripped = {
      ...header,
      encryptedDataKeys: header.encryptedDataKeys.filter((e) => !isLocationEdk(e)),
    };
    const wrongDataKey = new Uint8Array(32).fill(7);
    await expectCode(
      rewriteHeader({
        header: stripped,
        dataKey: wrongDataKey,
        encryptedDataKeys: stripped.encryptedDataKeys,
      }),
      'COMMITMENT_MISMATCH',
    );
    // Storage edits the binding's bytes in place: the header tag no longer verifies.
    const binding = header.encryptedDataKeys.find(isLocationEdk)?.ciphertext ?? new Uint8Array();
    const at = Buffer.from(message).indexOf(Buffer.from(binding));
    expect(at).toBeGreaterThan(0);
    const forged = message.slice();
    forged[at] = (forged[at] ?? 0) ^ 1;
    await expectCode(decryptBytes(forged, { keyring }), 'HEADER_TAMPERED');
  });

  it('is skipped by official client-node, which decrypts a bound message as is', async () => {
    const plaintext = patternBytes(3000, 9);
    const message = await bound(plaintext);
    const { plaintext: theirs } = await peer.decrypt(peerKeyring(KEY, 'k1', 'veil'), message);
    expect(new Uint8Array(theirs)).toEqual(plaintext);
  });

  it('moves with a rewrap that names both places, and never binds a swapped object anew', async () => {
    const plaintext = patternBytes(2500, 5);
    const message = await bound(plaintext);
    const header = parseHeaderBytes(message);
    const openWith = await ourKeyring(KEY, 'k1', 'veil');
    const to = { ...HERE, key: 'private/u1/renamed' };
    const moved = await rewrapHeader(header, {
      openWith,
      location: { from: HERE, to, rule: 'required' },
    });
    const body = message.subarray(header.headerBytes);
    const relocated = new Uint8Array([...moved.headerBytes, ...body]);
    expect(
      await decryptBytes(relocated, {
        keyring: openWith,
        location: { expected: to, rule: 'required' },
      }),
    ).toEqual(plaintext);
    await expectCode(
      decryptBytes(relocated, {
        keyring: openWith,
        location: { expected: HERE, rule: 'required' },
      }),
      'OBJECT_MISMATCH',
    );
    // The object read from a place it is not bound to (a swap) is not re-bound by a rename.
    await expectCode(
      rewrapHeader(header, {
        openWith,
        location: { from: { ...HERE, key: 'p/swapped' }, to, rule: 'if-present' },
      }),
      'OBJECT_MISMATCH',
    );
    // A plain key change keeps the binding as it is.
    const rekeyed = await rewrapHeader(header, {
      openWith,
      addWith: await ourKeyring(testKeyBytes(256, 8), 'k2', 'veil'),
    });
    expect(rekeyed.header.encryptedDataKeys.filter(isLocationEdk)).toEqual(
      header.encryptedDataKeys.filter(isLocationEdk),
    );
    expect(rekeyed.header.encryptedDataKeys.at(-1)?.providerId).toBe('veil-location');
  });

  it('binds an unbound object on a rewrap with a destination', async () => {
    const unbound = await encryptBytes(patternBytes(10), {
      keyring: await ourKeyring(KEY, 'k1', 'veil'),
    });
    const header = parseHeaderBytes(unbound);
    const openWith = await ourKeyring(KEY, 'k1', 'veil');
    const rebound = await rewrapHeader(header, {
      openWith,
      location: { from: HERE, to: HERE, rule: 'if-present' },
    });
    const keys = await openMessageKeys(rebound.header, { keyring: openWith });
    expect(await checkLocation(rebound.header, keys.locationKey, HERE, 'required')).toBe('bound');
  });
});
