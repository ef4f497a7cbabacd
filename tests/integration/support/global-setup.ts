/**
 * Vitest global setup of the integration tiers: runs once, in the process that forks the test
 * files, before any of them. It checks once that moto's server is installed (checkMoto sets
 * VEIL_MOTO_CHECKED_FOR), so that the files, each of which starts a stack of its own, skip that
 * probe: a Python start that imports moto, about a second of CPU and of wall time per file.
 */
import { checkMoto } from '../../../scripts/stack/moto';

export default function setup(): void {
  checkMoto();
}
