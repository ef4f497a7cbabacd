/**
 * [Note: initial JavaScript] What a visitor's browser fetches before the first upload, measured
 * on the build's own output ([Note: lazy seams] in src/aws/sdk-loader.ts says how it stays small):
 *
 * - the entry script and every chunk it imports statically (index.html preloads them all);
 * - the first view's chunk and its static imports: the page opens on Upload (`#/upload`, the
 *   router's default), fetched by LazyView as soon as the shell runs;
 * - the worker scripts that code starts at once (AppState pings the worker at start-up).
 *
 * Chunks that only a later `import()` reaches (the other views, the AWS SDK, the S3 commands)
 * are not counted: nothing fetches them until the user goes there or signs in. Sizes are gzip
 * (level 9, what a static host serves) in KB of 1000 bytes, as Vite prints them. The build
 * prints the figures; tests/integration/initial-js.test.ts fails when the total passes
 * INITIAL_JS_BUDGET_BYTES.
 */
import { gzipSync } from 'node:zlib';
import type { Plugin } from 'vite';

/** The budget for the JavaScript fetched before the first upload, gzip (issue 21: 150 KB). */
export const INITIAL_JS_BUDGET_BYTES = 150_000;

/** The view the page opens on: the router's default route. */
export const FIRST_VIEW = 'src/views/Upload.svelte';

/** What the measure needs of one output file (a Rollup/Rolldown chunk or asset). */
export type OutputFile =
  | {
      type: 'chunk';
      fileName: string;
      code: string;
      isEntry: boolean;
      facadeModuleId: string | null;
      /** Static imports only (dynamic ones are `dynamicImports`). */
      imports: readonly string[];
    }
  | { type: 'asset'; fileName: string; source: string | Uint8Array };

/** One group of files and their sizes. */
export interface FileGroup {
  readonly files: readonly string[];
  readonly gzipBytes: number;
  readonly rawBytes: number;
}

/** The measure of a build (see [Note: initial JavaScript]). */
export interface InitialJs {
  /** The entry and its static imports (what index.html loads and preloads). */
  readonly entry: FileGroup;
  /** What the first view adds: its chunk and static imports not already in `entry`. */
  readonly firstView: FileGroup;
  /** The worker scripts named in the code above. */
  readonly workers: FileGroup;
  /** All of it: the JavaScript fetched before the first upload. */
  readonly totalGzipBytes: number;
}

function bytesOf(file: OutputFile): Uint8Array {
  const text = file.type === 'chunk' ? file.code : file.source;
  return typeof text === 'string' ? new TextEncoder().encode(text) : text;
}

function group(files: readonly OutputFile[]): FileGroup {
  let gzipBytes = 0;
  let rawBytes = 0;
  for (const file of files) {
    const bytes = bytesOf(file);
    rawBytes += bytes.length;
    gzipBytes += gzipSync(bytes, { level: 9 }).length;
  }
  return { files: files.map((file) => file.fileName).sort(), gzipBytes, rawBytes };
}

/** `starts` and every chunk they import statically, transitively. */
function staticClosure(
  starts: readonly string[],
  chunks: ReadonlyMap<string, OutputFile & { type: 'chunk' }>,
): Set<string> {
  const seen = new Set<string>();
  const stack = [...starts];
  while (stack.length > 0) {
    const name = stack.pop() as string;
    if (seen.has(name)) continue;
    const chunk = chunks.get(name);
    if (!chunk) throw new Error(`the build has no chunk ${name}, which another imports`);
    seen.add(name);
    stack.push(...chunk.imports);
  }
  return seen;
}

/**
 * Measures the JavaScript fetched before the first upload in a build's output.
 * @param firstView the first view's module path, relative to the project root (FIRST_VIEW).
 * @throws Error when the output has no single entry chunk, or no chunk for the first view.
 */
export function measureInitialJs(
  output: readonly OutputFile[],
  firstView: string = FIRST_VIEW,
): InitialJs {
  const chunks = new Map(
    output.flatMap((file) => (file.type === 'chunk' ? [[file.fileName, file] as const] : [])),
  );
  const entries = [...chunks.values()].filter((chunk) => chunk.isEntry);
  const [entryChunk] = entries;
  if (entries.length !== 1 || !entryChunk) {
    throw new Error(`expected one entry chunk, found ${entries.length}`);
  }
  const view = [...chunks.values()].find((chunk) =>
    chunk.facadeModuleId?.replaceAll('\\', '/').endsWith(`/${firstView}`),
  );
  if (!view) throw new Error(`no chunk of its own for the first view ${firstView}`);
  const entryNames = staticClosure([entryChunk.fileName], chunks);
  const allNames = staticClosure([...entryNames, view.fileName], chunks);
  const loaded = [...allNames].map((name) => chunks.get(name) as OutputFile);
  const code = loaded.map((chunk) => (chunk.type === 'chunk' ? chunk.code : '')).join('\n');
  const workers = output.filter(
    (file) =>
      file.type === 'asset' &&
      file.fileName.endsWith('.js') &&
      code.includes(file.fileName.split('/').pop() as string),
  );
  const entry = group(loaded.filter((chunk) => entryNames.has(chunk.fileName)));
  const firstViewGroup = group(loaded.filter((chunk) => !entryNames.has(chunk.fileName)));
  const workerGroup = group(workers);
  return {
    entry,
    firstView: firstViewGroup,
    workers: workerGroup,
    totalGzipBytes: entry.gzipBytes + firstViewGroup.gzipBytes + workerGroup.gzipBytes,
  };
}

const kb = (bytes: number): string => `${(bytes / 1000).toFixed(1)} KB`;

/** The lines the build prints. */
export function describeInitialJs(
  measure: InitialJs,
  budgetBytes = INITIAL_JS_BUDGET_BYTES,
): string[] {
  const { entry, firstView, workers, totalGzipBytes } = measure;
  const verdict = totalGzipBytes <= budgetBytes ? 'within' : 'OVER';
  return [
    `initial JS: ${kb(entry.gzipBytes)} gzip (entry + its static imports/modulepreloads, ${entry.files.length} files, ${kb(entry.rawBytes)} raw)`,
    `  + first view (Upload): ${kb(firstView.gzipBytes)} gzip; + worker: ${kb(workers.gzipBytes)} gzip`,
    `  before the first upload: ${kb(totalGzipBytes)} gzip, ${verdict} the budget of ${kb(budgetBytes)}`,
  ];
}

/** Prints the initial JavaScript of each production build (see [Note: initial JavaScript]). */
export function initialJsReport(): Plugin {
  return {
    name: 'veil-initial-js',
    apply: 'build',
    generateBundle: {
      order: 'post',
      handler(_options, bundle) {
        const measure = measureInitialJs(Object.values(bundle));
        for (const line of describeInitialJs(measure)) console.log(line);
      },
    },
  };
}
