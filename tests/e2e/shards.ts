/**
 * Which spec files an end-to-end shard runs (playwright.config.ts, VEIL_E2E_SHARD=current/total).
 *
 * [Note: e2e shards by duration] Playwright's own sharding cuts the file list, in name order,
 * into shards of about as many tests each; our files differ in length by a factor of 70, so the
 * two shards took 349 s and 425 s. Here each file goes, longest first, to the shard with the
 * fewest seconds so far (measured seconds below; a file not listed counts as the median), so the
 * shards end within one short file of each other. Every shard process computes the same split
 * from the same list, so together they run each file exactly once. To measure again: the
 * `duration` of every test result in reports/e2e-*.json, summed per file.
 */

/** Seconds each spec file's tests took (two clean-clone runs of the test plan, averaged). */
export const SPEC_SECONDS: Readonly<Record<string, number>> = {
  'a11y.spec.ts': 59,
  'app.spec.ts': 7,
  'core-browser.spec.ts': 1,
  'csp.spec.ts': 12,
  'download-sw.spec.ts': 5,
  'download.spec.ts': 45,
  'faults.spec.ts': 36,
  'hsm-browser.spec.ts': 1,
  'keyboard.spec.ts': 6,
  'kms.spec.ts': 19,
  'lazy-views.spec.ts': 6,
  'tamper.spec.ts': 19,
  'ui-files-bulk-private.spec.ts': 4,
  'ui-files-bulk.spec.ts': 6,
  'ui-files-zip.spec.ts': 5,
  'ui-files.spec.ts': 13,
  'ui-flows.spec.ts': 11,
  'ui-identity-prefix.spec.ts': 4,
  'ui-keys.spec.ts': 28,
  'ui-move.spec.ts': 9,
  'ui-names-cli.spec.ts': 5,
  'ui-names-rotate.spec.ts': 7,
  'ui-padding.spec.ts': 4,
  'ui-people.spec.ts': 17,
  'ui-preview-names.spec.ts': 5,
  'ui-preview.spec.ts': 7,
  'ui-private-names.spec.ts': 18,
  'ui-rewrap-resume.spec.ts': 13,
  'ui-rewrap.spec.ts': 14,
  'ui-rough-edges.spec.ts': 21,
  'ui-settings.spec.ts': 18,
  'ui-share-link.spec.ts': 40,
  'ui-share-list-rebuild.spec.ts': 14,
  'ui-sign-in.spec.ts': 21,
  'ui-upload.spec.ts': 46,
  'ui-vault-lock.spec.ts': 22,
  'ui-versions.spec.ts': 16,
  'upload-models.spec.ts': 4,
  'upload-resume-trust.spec.ts': 18,
  'upload.spec.ts': 71,
  'wire-audit.spec.ts': 14,
};

/** The median of `values` (0 for none). */
function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return 0;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

/**
 * The files (paths relative to the spec folder, such as `kms.spec.ts`) of shard `current` of
 * `total` ([Note: e2e shards by duration]), in name order.
 * @throws RangeError when current is not within 1..total.
 */
export function specsOfShard(
  files: readonly string[],
  current: number,
  total: number,
  seconds: Readonly<Record<string, number>> = SPEC_SECONDS,
): string[] {
  if (!Number.isInteger(total) || total < 1 || !Number.isInteger(current)) {
    throw new RangeError(`shard must be whole numbers, not ${current}/${total}`);
  }
  if (current < 1 || current > total) {
    throw new RangeError(`shard ${current} is not within 1..${total}`);
  }
  const fallback = median(Object.values(seconds));
  const weightOf = (file: string): number => seconds[file] ?? fallback;
  const byLength = [...new Set(files)].sort(
    (a, b) => weightOf(b) - weightOf(a) || (a < b ? -1 : a > b ? 1 : 0),
  );
  const loads = Array.from({ length: total }, () => 0);
  const chosen: string[] = [];
  for (const file of byLength) {
    let lightest = 0;
    for (let shard = 1; shard < total; shard += 1) {
      if ((loads[shard] ?? 0) < (loads[lightest] ?? 0)) lightest = shard;
    }
    loads[lightest] = (loads[lightest] ?? 0) + weightOf(file);
    if (lightest === current - 1) chosen.push(file);
  }
  return chosen.sort();
}
