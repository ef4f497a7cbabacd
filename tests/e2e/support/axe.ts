/**
 * axe-core in the page: every rule of WCAG 2.0/2.1/2.2 A and AA and axe's best practices runs,
 * and the serious and critical violations are returned as lines that name the rule, the help
 * text and each offending element, so a failing expectation says what to fix.
 */
import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';

const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'];

/** The serious and critical violations on `page` now, one line per element ([] when none). */
export async function seriousViolations(page: Page, state: string): Promise<string[]> {
  const results = await new AxeBuilder({ page }).withTags(TAGS).analyze();
  const lines: string[] = [];
  for (const violation of results.violations) {
    if (violation.impact !== 'serious' && violation.impact !== 'critical') continue;
    for (const node of violation.nodes) {
      lines.push(
        `${state}: ${violation.id} (${violation.impact}) ${violation.help}: ${node.target.join(' ')} ${node.failureSummary ?? ''}`.replace(
          /\s+/g,
          ' ',
        ),
      );
    }
  }
  return lines;
}
