import { chromium, type Browser, type Page } from 'playwright-core';
import { expect } from 'vitest';

/**
 * Debian's Chromium, headless, for the browser tests. Without the background-networking flags it
 * tries to reach Google's hosts at every start, which this closed network refuses.
 */
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

/** Types `name` into the page's name box and waits until the page says it took it. */
export async function setName(page: Page, name: string): Promise<void> {
  await page.getByLabel('Your name', { exact: true }).fill(name);
  await page.getByLabel('Your name', { exact: true }).press('Enter');
  await expect.poll(() => page.locator('#name-hint').textContent(), { timeout: 20_000 }).toBe(`You are now ${name}.`);
}

/** A new page on the web chat at `url`, loaded and named `name`; its script errors go to `errors`. */
export async function openChat(browser: Browser, url: string, name: string, errors: string[]): Promise<Page> {
  const page = await browser.newPage();
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]');
  await setName(page, name);
  return page;
}
