/**
 * Changing a file's protection in Chromium against the local stack: three Model A keys are
 * imported into the vault, files are uploaded under key X through the Upload view (one small,
 * one over 5 MiB so the multipart path with UploadPartCopy runs), then:
 * - Files, two rows selected, "Change protection…": replace X by Y; read back from moto in Node,
 *   each object decrypts byte-identically with Y (the core and client-node), not with X, and the
 *   bytes after the new header are those after the old one (the frames were not touched);
 * - removing the only key of a file is refused in the plan with REWRAP_LAST_KEY, nothing starts
 *   and the object is untouched;
 * - a rewrap cancelled while its PutObject is held leaves the object untouched;
 * - Keys, "Rotate this key" X → Z: the headers under the folder are read, the files that still
 *   name X are rewrapped, and X is retired from the vault through the delete confirmation;
 * - Change model A → C (the deployment's KMS key): the file opens with KMS, not with its old key;
 * - a folder's change paused while two objects are held: they finish, no other starts until
 *   Resume;
 * - signed in as the demo user, a Model B key (the HSM label) is added: the HSM proxy opens it.
 */
import { GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { KMSClient } from '@aws-sdk/client-kms';
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serializeKeyFile } from '../../src/core/key-file';
import { decryptBytes } from '../../src/core/one-shot';
import { kmsApiFor } from '../../src/aws/clients';
import { HsmProxyKeyring } from '../../src/keyrings/hsm-proxy';
import { KmsKeyring } from '../../src/keyrings/kms';
import { parseHeaderBytes } from '../../src/core/message';
import { bodyAfterHeader, ours, peer, theirs } from './support/rewrap-checks';
import { rowAction, rowMenuButton } from './support/row-menu';
import { MiB, connectGuest, env } from './support/upload-ui';

const run = randomBytes(3).toString('hex');
const KEYS = {
  x: { keyName: `rw-x-${run}`, keyBytes: new Uint8Array(randomBytes(32)) },
  y: { keyName: `rw-y-${run}`, keyBytes: new Uint8Array(randomBytes(32)) },
  z: { keyName: `rw-z-${run}`, keyBytes: new Uint8Array(randomBytes(32)) },
};
const FOLDER = `rewrap-${run}`;
const FILES: Record<string, Uint8Array> = {
  'small.txt': new TextEncoder().encode('A small file whose keys change.\n'.repeat(2000)),
  'big.bin': new Uint8Array(randomBytes(6 * MiB + 4321)),
  'last.txt': new TextEncoder().encode('Only one key.\n'.repeat(100)),
  'cancel.txt': new TextEncoder().encode('Cancelled mid-way.\n'.repeat(100)),
  'rotate.txt': new TextEncoder().encode('Rotated in Keys.\n'.repeat(100)),
};

let s3: S3Client;
let context: BrowserContext;
let page: Page;
let work: string;
/** The objects as the upload wrote them. */
const uploaded = new Map<string, Uint8Array>();

const keyOf = (name: string): string => `${FOLDER}/${name}`;

async function getObject(name: string): Promise<Uint8Array> {
  const reply = await s3.send(
    new GetObjectCommand({ Bucket: env('VEIL_BUCKET'), Key: keyOf(name) }),
  );
  return new Uint8Array(await reply.Body!.transformToByteArray());
}

/** The object opens with `opens` (in Veil's core and in client-node) and not with `refused`. */
async function expectKeys(
  name: string,
  opens: (typeof KEYS)[keyof typeof KEYS],
  refused: (typeof KEYS)[keyof typeof KEYS],
): Promise<Uint8Array> {
  const body = await getObject(name);
  const plain = FILES[name]!;
  expect(Buffer.compare(await decryptBytes(body, { keyring: await ours(opens) }), plain)).toBe(0);
  const { plaintext } = await peer.decrypt(theirs(opens), body);
  expect(Buffer.compare(plaintext, plain)).toBe(0);
  await expect(decryptBytes(body, { keyring: await ours(refused) })).rejects.toMatchObject({
    code: 'NO_MATCHING_EDK',
  });
  await expect(peer.decrypt(theirs(refused), body)).rejects.toThrow();
  return body;
}

function fileRow(name: string) {
  return page.locator(`[data-testid="row"][data-name="${name}"]`);
}

async function openFolder(): Promise<void> {
  await page.goto(`${env('VEIL_APP_URL')}#/files/${FOLDER}/`);
  await expect(fileRow('small.txt')).toBeVisible();
}

test.describe.configure({ mode: 'serial', timeout: 120_000 });

test.beforeAll(async ({ browser }) => {
  s3 = new S3Client({
    region: 'us-east-1',
    endpoint: env('VEIL_MOTO_URL'),
    forcePathStyle: true,
    credentials: { accessKeyId: 'veil-local', secretAccessKey: 'veil-local-secret' },
  });
  work = await mkdtemp(join(tmpdir(), 'veil-ui-rewrap-'));
  for (const [name, bytes] of Object.entries(FILES)) await writeFile(join(work, name), bytes);
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
});

test.afterAll(async () => {
  await context?.close();
  s3?.destroy();
  await rm(work, { recursive: true, force: true });
});

test('files uploaded under key X get key Y instead: selection, plan, run, checked in S3', async () => {
  await connectGuest(page);
  await page.getByRole('link', { name: 'Keys', exact: true }).click();
  for (const key of [KEYS.x, KEYS.y, KEYS.z]) {
    await page.getByTestId('import-file').setInputFiles({
      name: `${key.keyName}.jwk`,
      mimeType: 'application/json',
      buffer: Buffer.from(
        serializeKeyFile({ ...key, keyBytes: key.keyBytes.slice(), keyNamespace: 'veil' }),
      ),
    });
    await expect(page.getByTestId('pending-key')).toContainText(key.keyName);
    await page.getByTestId('pending-done').click();
  }
  // X, imported first, is the vault's oldest key: the Model A default.
  await expect(
    page.locator(`[data-testid="vault-key"][data-key-name="${KEYS.x.keyName}"]`),
  ).toContainText('Model A default');

  await page.getByRole('link', { name: 'Upload', exact: true }).click();
  await page.getByTestId('mode-A').check();
  await expect(page.getByTestId('mode-A-key')).toContainText(KEYS.x.keyName);
  await page.getByLabel(/Destination folder/).fill(FOLDER);
  await page
    .getByTestId('file-input')
    .setInputFiles(Object.keys(FILES).map((name) => join(work, name)));
  await expect(page.locator('[data-testid="upload-row"][data-phase="done"]')).toHaveCount(5, {
    timeout: 60_000,
  });
  for (const name of Object.keys(FILES)) uploaded.set(name, await getObject(name));
  await expectKeys('small.txt', KEYS.x, KEYS.y);

  await openFolder();
  await fileRow('small.txt').getByRole('checkbox', { name: 'Select small.txt' }).check();
  await fileRow('big.bin').getByRole('checkbox', { name: 'Select big.bin' }).check();
  await expect(page.getByTestId('selection-count')).toHaveText('2 files selected');
  await page.getByTestId('protect-selection').click();
  const dialog = page.getByTestId('protection-dialog');
  await expect(dialog).toHaveAttribute('data-phase', 'choosing');
  await expect(dialog.getByRole('heading')).toHaveText('Change protection of 2 files');
  await dialog.getByTestId('op-replace').check();
  await expect(dialog.getByTestId('remove-key')).toContainText(KEYS.x.keyName);
  await dialog.getByTestId('add-model').selectOption('A');
  await dialog.getByTestId('add-key').selectOption(KEYS.y.keyName);
  await page.screenshot({ path: test.info().outputPath('rewrap-choose.png') });
  await dialog.getByTestId('show-plan').click();
  await expect(dialog.getByTestId('plan-summary')).toContainText('2 objects change');
  await expect(dialog.getByTestId('versions-note')).toBeVisible();
  await dialog.getByTestId('protection-start').click();
  await expect(dialog.getByTestId('protection-run')).toHaveAttribute('data-state', 'done', {
    timeout: 60_000,
  });
  await expect(dialog.locator('[data-testid="run-item"][data-state="done"]')).toHaveCount(2);
  await page.screenshot({ path: test.info().outputPath('rewrap-done.png') });
  await dialog.getByTestId('protection-close').click();
  await expect(dialog).toBeHidden();

  for (const name of ['small.txt', 'big.bin']) {
    const body = await expectKeys(name, KEYS.y, KEYS.x);
    expect(Buffer.compare(bodyAfterHeader(body), bodyAfterHeader(uploaded.get(name)!))).toBe(0);
    const head = await s3.send(
      new HeadObjectCommand({ Bucket: env('VEIL_BUCKET'), Key: keyOf(name) }),
    );
    expect(head.Metadata?.['veil-model']).toBe('A');
  }
});

test('removing the only key of a file is refused with REWRAP_LAST_KEY; the object is untouched', async () => {
  await openFolder();
  await rowAction(page, 'last.txt', 'Change protection of last.txt');
  const dialog = page.getByTestId('protection-dialog');
  await expect(dialog).toHaveAttribute('data-phase', 'choosing');
  await dialog.getByTestId('op-remove').check();
  await dialog.getByTestId('show-plan').click();
  await expect(dialog.getByTestId('plan-refused')).toHaveAttribute('data-code', 'REWRAP_LAST_KEY');
  await expect(dialog.getByTestId('protection-start')).toBeDisabled();
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: test.info().outputPath('rewrap-refused-phone.png') });
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await expect(rowMenuButton(page, 'last.txt')).toBeFocused();
  expect(Buffer.compare(await getObject('last.txt'), uploaded.get('last.txt')!)).toBe(0);
});

test('a change cancelled while its PutObject is held leaves the object untouched', async () => {
  await openFolder();
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: test.info().outputPath('files-phone.png'), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 900 });
  let held = 0;
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  await page.route(`**/${FOLDER}/cancel.txt*`, async (route) => {
    if (route.request().method() !== 'PUT') return route.continue();
    held += 1;
    await gate;
    await route.abort().catch(() => undefined);
  });
  await rowAction(page, 'cancel.txt', 'Change protection of cancel.txt');
  const dialog = page.getByTestId('protection-dialog');
  await expect(dialog).toHaveAttribute('data-phase', 'choosing');
  await dialog.getByTestId('op-add').check();
  await dialog.getByTestId('add-key').selectOption(KEYS.z.keyName);
  await dialog.getByTestId('show-plan').click();
  await dialog.getByTestId('protection-start').click();
  await expect.poll(() => held).toBeGreaterThan(0);
  // While a file changes, Esc does not close the dialog.
  await page.keyboard.press('Escape');
  await expect(dialog).toBeVisible();
  await dialog.getByTestId('run-cancel').click();
  await expect(dialog.getByTestId('protection-run')).toHaveAttribute('data-state', 'cancelled');
  await expect(dialog.getByTestId('run-item')).toHaveAttribute('data-state', 'cancelled');
  release();
  await page.unrouteAll({ behavior: 'ignoreErrors' });
  await dialog.getByTestId('protection-close').click();
  expect(Buffer.compare(await getObject('cancel.txt'), uploaded.get('cancel.txt')!)).toBe(0);
});

test('Rotate this key in Keys moves the files that name X to Z, then X is retired', async () => {
  await page.goto(`${env('VEIL_APP_URL')}#/keys`);
  const x = page.locator(`[data-testid="vault-key"][data-key-name="${KEYS.x.keyName}"]`);
  await x.getByTestId('rotate-key').click();
  const dialog = page.getByTestId('rotate-dialog');
  await dialog.getByTestId('rotate-new-key').selectOption(KEYS.z.keyName);
  await dialog.getByTestId('rotate-find').click();
  await expect(dialog).toHaveAttribute('data-phase', 'planned', { timeout: 60_000 });
  // rotate.txt, last.txt and cancel.txt still name X; small.txt and big.bin no longer do.
  await expect(dialog.getByTestId('plan-summary')).toContainText('3 objects change');
  await dialog.getByTestId('rotate-start').click();
  await expect(dialog.getByTestId('protection-run')).toHaveAttribute('data-state', 'done', {
    timeout: 60_000,
  });
  await expectKeys('rotate.txt', KEYS.z, KEYS.x);
  await expectKeys('last.txt', KEYS.z, KEYS.x);
  await page.screenshot({ path: test.info().outputPath('rotate-done.png') });
  await dialog.getByTestId('rotate-retire').click();
  const confirm = page.locator('dialog[data-testid="delete-dialog"]');
  await expect(confirm).toBeVisible();
  await confirm.getByTestId('confirm-delete').click();
  await expect(x).toHaveCount(0);
});

test('Change model from A to C: the KMS key opens the file, the vault key no longer does', async () => {
  await openFolder();
  await rowAction(page, 'small.txt', 'Change protection of small.txt');
  const dialog = page.getByTestId('protection-dialog');
  await expect(dialog).toHaveAttribute('data-phase', 'choosing');
  await dialog.getByTestId('op-model').check();
  await dialog.getByTestId('from-model').selectOption('A');
  await dialog.getByTestId('add-model').selectOption('C');
  await expect(dialog.getByTestId('add-key')).toHaveValue(/alias\//);
  await dialog.getByTestId('show-plan').click();
  await expect(dialog.getByTestId('plan-summary')).toContainText('1 object changes');
  await dialog.getByTestId('protection-start').click();
  await expect(dialog.getByTestId('protection-run')).toHaveAttribute('data-state', 'done', {
    timeout: 30_000,
  });
  await dialog.getByTestId('protection-close').click();

  const kms = new KMSClient({
    region: 'us-east-1',
    endpoint: env('VEIL_MOTO_URL'),
    credentials: { accessKeyId: 'veil-local', secretAccessKey: 'veil-local-secret' },
  });
  try {
    const body = await getObject('small.txt');
    const keyring = new KmsKeyring({ clients: () => kmsApiFor(kms, 'us-east-1'), discovery: true });
    expect(Buffer.compare(await decryptBytes(body, { keyring }), FILES['small.txt']!)).toBe(0);
    expect(
      parseHeaderBytes(body.subarray(0, 64 * 1024)).encryptedDataKeys.map((edk) => edk.providerId),
    ).toEqual(['aws-kms', 'veil-location']);
    await expect(decryptBytes(body, { keyring: await ours(KEYS.y) })).rejects.toMatchObject({
      code: 'NO_MATCHING_EDK',
    });
    const head = await s3.send(
      new HeadObjectCommand({ Bucket: env('VEIL_BUCKET'), Key: keyOf('small.txt') }),
    );
    expect(head.Metadata?.['veil-model']).toBe('C');
  } finally {
    kms.destroy();
  }
});

test('a folder change pauses after the objects in flight and resumes', async () => {
  await page.goto(`${env('VEIL_APP_URL')}#/files`);
  let held = 0;
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const matcher = (url: URL): boolean => /\/(cancel|last)\.txt$/.test(url.pathname);
  await page.route(matcher, async (route) => {
    if (route.request().method() !== 'PUT') return route.continue();
    held += 1;
    await gate;
    await route.continue().catch(() => undefined);
  });
  await rowAction(page, FOLDER, `Change protection of folder ${FOLDER}`);
  const dialog = page.getByTestId('protection-dialog');
  await expect(dialog).toHaveAttribute('data-phase', 'choosing');
  await expect(dialog).toContainText('5 objects selected');
  await dialog.getByTestId('op-add').check();
  await dialog.getByTestId('add-model').selectOption('A');
  await dialog.getByTestId('add-key').selectOption(KEYS.y.keyName);
  await dialog.getByTestId('show-plan').click();
  // big.bin already has Y: nothing to change there.
  await expect(dialog.getByTestId('plan-summary')).toContainText('4 objects change');
  await dialog.getByTestId('protection-start').click();
  await expect.poll(() => held).toBe(2);
  await dialog.getByTestId('run-pause').click();
  await expect(dialog.getByTestId('protection-run')).toHaveAttribute('data-state', 'pausing');
  release();
  await expect(dialog.getByTestId('protection-run')).toHaveAttribute('data-state', 'paused');
  await page.unroute(matcher);
  const item = (name: string) =>
    dialog.locator(`[data-testid="run-item"][data-key="${keyOf(name)}"]`);
  await expect(item('cancel.txt')).toHaveAttribute('data-state', 'done');
  await expect(item('last.txt')).toHaveAttribute('data-state', 'done');
  await expect(item('rotate.txt')).toHaveAttribute('data-state', 'waiting');
  await expect(item('small.txt')).toHaveAttribute('data-state', 'waiting');
  await dialog.getByTestId('run-resume').click();
  await expect(dialog.getByTestId('protection-run')).toHaveAttribute('data-state', 'done');
  await expect(dialog.locator('[data-testid="run-item"][data-state="done"]')).toHaveCount(4);
  await expect(item('big.bin')).toHaveAttribute('data-state', 'skipped');
  await dialog.getByTestId('protection-close').click();
  await expectKeys('rotate.txt', KEYS.y, KEYS.x);
});

test('signed in as the demo user, the HSM key is added to a file and opens it', async () => {
  await page.goto(`${env('VEIL_APP_URL')}#/settings`);
  // Signed in as a guest by the first test: Switch brings the sign-in forms back.
  const switchButton = page.getByRole('button', { name: 'Switch' });
  if (await switchButton.isVisible()) await switchButton.click();
  const form = page.getByRole('form', { name: 'Sign in with user name and password' });
  await form.getByLabel('User name').fill('demo');
  await form.getByLabel('Password').fill('Veil-demo-2026');
  await form.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('credentials-status')).toContainText('Signed in as demo');
  await openFolder();
  await rowAction(page, 'last.txt', 'Change protection of last.txt');
  const dialog = page.getByTestId('protection-dialog');
  await expect(dialog).toHaveAttribute('data-phase', 'choosing');
  await dialog.getByTestId('op-add').check();
  await dialog.getByTestId('add-model').selectOption('B');
  await expect(dialog.getByTestId('add-key')).toHaveValue(env('VEIL_HSM_KEY_LABEL'));
  await dialog.getByTestId('show-plan').click();
  await expect(dialog.getByTestId('plan-summary')).toContainText('1 object changes');
  await dialog.getByTestId('protection-start').click();
  await expect(dialog.getByTestId('protection-run')).toHaveAttribute('data-state', 'done', {
    timeout: 30_000,
  });
  await dialog.getByTestId('protection-close').click();
  const body = await getObject('last.txt');
  const hsm = new HsmProxyKeyring({
    proxyUrl: env('VEIL_HSM_URL'),
    idToken: () => env('VEIL_DEMO_ID_TOKEN'),
  });
  expect(Buffer.compare(await decryptBytes(body, { keyring: hsm }), FILES['last.txt']!)).toBe(0);
  // The keys it had stay: Z (from the rotation) and Y (from the folder change) still open it.
  expect(
    Buffer.compare(await decryptBytes(body, { keyring: await ours(KEYS.z) }), FILES['last.txt']!),
  ).toBe(0);
  const head = await s3.send(
    new HeadObjectCommand({ Bucket: env('VEIL_BUCKET'), Key: keyOf('last.txt') }),
  );
  // An added key does not change what the file is: its badge stays.
  expect(head.Metadata?.['veil-model']).toBe('A');
});
