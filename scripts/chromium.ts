/**
 * How Veil's tests and benchmarks launch Debian's Chromium (Playwright cannot download its own
 * browsers here). The flags keep it off the network it has no business with: without the
 * background-networking ones it tries Google's hosts at every start.
 */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Launch options for Playwright's chromium: VEIL_CHROMIUM overrides the binary. */
export function chromiumLaunchOptions(): {
  executablePath: string;
  args: string[];
  headless: true;
} {
  return {
    executablePath: process.env.VEIL_CHROMIUM ?? '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
    headless: true,
  };
}
