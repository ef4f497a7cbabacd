/**
 * The logic of the Files view's "Rename…" and "Move…" (move.svelte.ts is its reactive wrapper,
 * MoveDialog.svelte its view): a file or a folder gets a new clear path, checked as the user
 * types; the source's stored prefix is listed (every page, no delimiter) and planned
 * ([Note: move plan] in src/transfer/move-plan.ts); the plan is shown (objects, bytes copied
 * inside S3 and through the browser, what is left and why), then run with RewrapBatch and the
 * move engine ([Note: move by rewrap] in src/transfer/rewrap-move.ts) with progress, pause and
 * cancel, and a result per object. A move never overwrites: a name already taken fails that
 * object with MOVE_DESTINATION_EXISTS and both files stay.
 *
 * Everything the user types and reads is a clear path below the location's root; the location's
 * names (LocationNames) turn it into stored keys and back, so with private names no clear name
 * leaves the page.
 */
import type { Keyring } from '../../core';
import { checkedSegment } from '../../core/names';
import { VeilError } from '../../core/errors';
import type { FilesS3 } from '../../aws/bucket-s3';
import type { LocationNames } from '../../transfer/location-names';
import { planMove, type MovePlan } from '../../transfer/move-plan';
import { RewrapBatch, type BatchSnapshot, type ListedObject } from '../../transfer/rewrap-batch';
import type { RewrapResult, RewrapSetup } from '../../transfer/rewrap-options';
import type { RewrapS3 } from '../../transfer/rewrap-s3';
import { shownError, type ShownError } from '../app/shown-error';

/** What the dialog does: a new name in the same folder, or the same name in another folder. */
export type MoveKind = 'rename' | 'move';

/** The row moved: a file by its stored key, a folder by its stored prefix (ending in '/'). */
export interface MoveSource {
  readonly kind: 'file' | 'folder';
  readonly key: string;
}

/** Where a rename or move is. */
export type MovePhase =
  'idle' | 'opening' | 'editing' | 'planning' | 'planned' | 'running' | 'finished' | 'failed';

/** An object the plan leaves where it is, as the view shows it. */
export interface SkippedObject {
  readonly key: string;
  readonly code: string;
  readonly detail: string;
}

/** Everything the view shows (the wrapper copies it into $state). */
export interface MoveView {
  readonly phase: MovePhase;
  readonly kind: MoveKind;
  /** The source's clear path below the root (a folder ends in '/'); '' before open. */
  readonly from: string;
  /** What the field starts with: the current name (rename) or folder (move, '' at the root). */
  readonly initial: string;
  /** The planned clear path. */
  readonly to: string | undefined;
  readonly plan: MovePlan | undefined;
  readonly skipped: readonly SkippedObject[];
  /**
   * Objects of the plan whose new key is taken already (listed when planned): they will fail
   * with MOVE_DESTINATION_EXISTS and stay where they are, never overwriting.
   */
  readonly taken: number;
  readonly run: BatchSnapshot | undefined;
  readonly error: ShownError | undefined;
}

export const EMPTY_MOVE_VIEW: MoveView = {
  phase: 'idle',
  kind: 'rename',
  from: '',
  initial: '',
  to: undefined,
  plan: undefined,
  skipped: [],
  taken: 0,
  run: undefined,
  error: undefined,
};

/** What the core needs of the app. */
export interface MoveDeps {
  readonly bucket: string;
  /** The current location's names (locationNames.open in the app). */
  names(): Promise<LocationNames>;
  /** Every object under a prefix, with its size (listAll over the app's S3 adapter). */
  list(prefix: string, signal?: AbortSignal): Promise<readonly ListedObject[]>;
  /** The rewrap engine's S3 seam. */
  rewrapS3(): RewrapS3;
  /** Every key the session holds: the keyring the Files downloads open objects with. */
  readKeyring(): Promise<Keyring | undefined>;
  /** Moves in flight; default 2. */
  readonly concurrency?: number;
  /** The engine (tests pass a fake). */
  readonly rewrap?: (setup: RewrapSetup) => Promise<RewrapResult>;
}

/**
 * Every object under `prefix`, all pages, no delimiter (a folder's whole tree).
 * @throws what `s3.list` throws (S3_REJECTED, S3_UNREACHABLE, ...).
 */
export async function listAll(
  s3: Pick<FilesS3, 'list'>,
  prefix: string,
  signal?: AbortSignal,
): Promise<ListedObject[]> {
  const objects: ListedObject[] = [];
  let token: string | undefined;
  do {
    const page = await s3.list({ prefix, ...(token ? { token } : {}) }, signal);
    for (const object of page.objects)
      objects.push({ key: object.key, sizeBytes: object.sizeBytes });
    token = page.nextToken;
  } while (token);
  return objects;
}

function isFolder(path: string): boolean {
  return path.endsWith('/');
}

/** The last segment of a clear path (without a folder's slash). */
export function baseNameOf(path: string): string {
  const body = isFolder(path) ? path.slice(0, -1) : path;
  return body.slice(body.lastIndexOf('/') + 1);
}

/** The folder holding a clear path: '' at the root, else ending in '/'. */
export function parentOf(path: string): string {
  const body = isFolder(path) ? path.slice(0, -1) : path;
  const cut = body.lastIndexOf('/');
  return cut < 0 ? '' : body.slice(0, cut + 1);
}

/** Why `name` cannot be a file or folder name (NAME_INVALID's rules), or undefined. */
function segmentProblem(name: string): string | undefined {
  try {
    checkedSegment(name);
    return undefined;
  } catch {
    if (name === '') return 'Type a name.';
    if (name === '.' || name === '..') return `“${name}” cannot be a name.`;
    if (name.includes('/')) return 'A name cannot hold “/”.';
    return 'A name cannot hold control characters.';
  }
}

/** A folder as typed ('a/b', '/a/b/', '' for the root) in the form paths use ('a/b/', ''). */
export function folderPath(typed: string): string {
  const trimmed = typed.trim().replace(/^\/+/, '').replace(/\/+$/, '');
  return trimmed === '' ? '' : `${trimmed}/`;
}

/** The clear path `typed` asks for: a new name beside `from`, or `from` in the folder typed. */
export function targetPath(kind: MoveKind, from: string, typed: string): string {
  const slash = isFolder(from) ? '/' : '';
  return kind === 'rename'
    ? `${parentOf(from)}${typed}${slash}`
    : `${folderPath(typed)}${baseNameOf(from)}${slash}`;
}

/**
 * Why `typed` cannot be planned (shown as the user types), or undefined: a name NAME_INVALID
 * refuses, the same name, the folder it is in already, a folder moved into itself.
 */
export function inputProblem(kind: MoveKind, from: string, typed: string): string | undefined {
  if (kind === 'rename') {
    const problem = segmentProblem(typed);
    if (problem) return problem;
    return typed.normalize('NFC') === baseNameOf(from).normalize('NFC')
      ? 'That is its name already.'
      : undefined;
  }
  const folder = folderPath(typed);
  for (const segment of folder === '' ? [] : folder.slice(0, -1).split('/')) {
    const problem = segmentProblem(segment);
    if (problem) return `${problem.replace(/\.$/, '')} (in “${segment}”).`;
  }
  if (folder.normalize('NFC') === parentOf(from).normalize('NFC')) {
    return 'It is in that folder already.';
  }
  if (isFolder(from) && folder.normalize('NFC').startsWith(from.normalize('NFC'))) {
    return 'A folder cannot go inside itself.';
  }
  return undefined;
}

/** The first failure of a run in the catalogue's words, as firstFailure in protection-ops. */
export { firstFailure } from './protection-ops';

export class MoveCore {
  readonly #deps: MoveDeps;
  readonly #onChange: (view: MoveView) => void;
  #view: MoveView = EMPTY_MOVE_VIEW;
  #source: MoveSource | undefined;
  #names: LocationNames | undefined;
  #listing: AbortController | undefined;
  #batch: RewrapBatch | undefined;
  #generation = 0;

  constructor(deps: MoveDeps, onChange: (view: MoveView) => void = () => {}) {
    this.#deps = deps;
    this.#onChange = onChange;
  }

  get view(): MoveView {
    return this.#view;
  }

  /** True while the source is listed or objects moved (the dialog does not close then). */
  get busy(): boolean {
    const phase = this.#view.phase;
    return phase === 'opening' || phase === 'planning' || phase === 'running';
  }

  /** True once some object of the run moved (the listing then changed). */
  get changed(): boolean {
    return this.#view.run?.items.some((item) => item.state === 'done') ?? false;
  }

  /** A stored key as the user reads it: its clear path below the root, else as stored. */
  shown(key: string): string {
    const names = this.#names;
    if (!names || !key.startsWith(names.root)) return key;
    return names.clearPath(key) ?? key;
  }

  /** An object of the plan as the results show it: `old → new` in clear paths. */
  shownMove(key: string): string {
    const destination = this.#view.plan?.destinations.get(key);
    return destination === undefined
      ? this.shown(key)
      : `${this.shown(key)} → ${this.shown(destination)}`;
  }

  /**
   * Starts a rename or move of `source`, shown in the folder `currentPrefix` (stored). Never
   * throws: a name that does not open (NAME_UNREADABLE) is the view's error.
   */
  async open(kind: MoveKind, source: MoveSource, currentPrefix: string): Promise<void> {
    this.close();
    const generation = ++this.#generation;
    this.#source = source;
    this.#set({ ...EMPTY_MOVE_VIEW, kind, phase: 'opening' });
    try {
      const names = await this.#deps.names();
      if (generation !== this.#generation) return;
      this.#names = names;
      const from = names.clearPath(source.key);
      if (from === undefined || from === '') {
        throw new VeilError('NAME_UNREADABLE', 'this name cannot be opened, so it cannot change');
      }
      const current =
        currentPrefix === names.root ? '' : (names.clearPath(currentPrefix) ?? parentOf(from));
      this.#set({
        phase: 'editing',
        from,
        initial: kind === 'rename' ? baseNameOf(from) : current,
      });
    } catch (error) {
      if (generation === this.#generation) this.#fail(error);
    }
  }

  /**
   * Plans the rename or move to what the user typed: lists the source's stored prefix, runs
   * planMove, and lists the destination to count the names taken there already. Never throws: a refused input or a failed listing is the view's error (editing).
   */
  async plan(typed: string): Promise<void> {
    const source = this.#source;
    const names = this.#names;
    const { kind, from } = this.#view;
    if (!source || !names || (this.#view.phase !== 'editing' && this.#view.phase !== 'planned')) {
      return;
    }
    const generation = this.#generation;
    this.#set({
      phase: 'planning',
      plan: undefined,
      to: undefined,
      skipped: [],
      taken: 0,
      error: undefined,
    });
    const controller = new AbortController();
    this.#listing = controller;
    try {
      const problem = inputProblem(kind, from, typed);
      if (problem)
        throw new VeilError(kind === 'rename' ? 'NAME_INVALID' : 'BAD_ARGUMENT', problem);
      const to = targetPath(kind, from, typed);
      const listed = await this.#deps.list(source.key, controller.signal);
      if (generation !== this.#generation) return;
      const plan = planMove(names, listed, { from, to });
      const skipped = plan.objects.flatMap((object) =>
        object.skip
          ? [
              {
                key: object.key,
                code: object.skip.code ?? 'NAME_UNREADABLE',
                detail: object.skip.detail,
              },
            ]
          : [],
      );
      const there = await this.#deps.list(names.objectKey(to), controller.signal);
      if (generation !== this.#generation) return;
      const existing = new Set(there.map((object) => object.key));
      const taken = [...plan.destinations.values()].filter((key) => existing.has(key)).length;
      this.#set({ phase: 'planned', to, plan, skipped, taken });
    } catch (error) {
      if (generation === this.#generation) this.#fail(error, 'editing');
    } finally {
      if (this.#listing === controller) this.#listing = undefined;
    }
  }

  /** Runs the plan; resolves when every object ended or the run was cancelled. Never throws. */
  async start(): Promise<void> {
    const { plan } = this.#view;
    const names = this.#names;
    if (this.#view.phase !== 'planned' || !plan || !names || plan.totals.ready === 0) return;
    try {
      const openWith = await this.#deps.readKeyring();
      if (!openWith) throw new VeilError('NO_KEY_FOR_OBJECT', 'no key is at hand in this session');
      const batch = new RewrapBatch({
        plan,
        setup: {
          s3: this.#deps.rewrapS3(),
          bucket: this.#deps.bucket,
          openWith,
          bindingRule: names.bindingRule,
        },
        destinationFor: (object) => plan.destinations.get(object.key),
        concurrency: this.#deps.concurrency ?? 2,
        onChange: (run) => {
          if (this.#batch === batch) this.#set({ run });
        },
        ...(this.#deps.rewrap ? { rewrap: this.#deps.rewrap } : {}),
      });
      this.#batch = batch;
      this.#set({ phase: 'running', run: batch.snapshot, error: undefined });
      const run = await batch.run();
      if (this.#batch === batch) this.#set({ phase: 'finished', run });
    } catch (error) {
      this.#fail(error, 'planned');
    }
  }

  /** Back to the field after a plan (to type another name); not while busy or after a run. */
  edit(): void {
    if (this.#view.phase !== 'planned') return;
    this.#set({
      phase: 'editing',
      plan: undefined,
      to: undefined,
      skipped: [],
      taken: 0,
      error: undefined,
    });
  }

  pause(): void {
    this.#batch?.pause();
  }
  resume(): void {
    this.#batch?.resume();
  }
  /** Cancels the listing or the run (objects in flight are left as they were). */
  cancel(): void {
    this.#listing?.abort();
    this.#batch?.cancel();
  }

  /** Forgets everything (the dialog closed); a running batch is cancelled. */
  close(): void {
    this.cancel();
    this.#generation += 1;
    this.#batch = undefined;
    this.#source = undefined;
    this.#set(EMPTY_MOVE_VIEW);
  }

  #fail(error: unknown, phase: MovePhase = 'failed'): void {
    this.#set({ phase, error: shownError(error) });
  }

  #set(change: Partial<MoveView>): void {
    this.#view = { ...this.#view, ...change };
    this.#onChange(this.#view);
  }
}
