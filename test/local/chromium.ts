import { chromium, type Browser } from 'playwright-core';

/**
 * Debian's Chromium, headless, for the browser tests. Without the background-networking flags it
 * tries to reach Google's hosts at every start, which this closed network refuses.
 */
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}
