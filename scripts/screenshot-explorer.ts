/**
 * Screenshot of the explorer running a query against a real in-process server (for the README):
 *   npx tsx scripts/screenshot-explorer.ts   writes docs/explorer.png (needs Debian's chromium)
 */
import path from 'node:path';
import { chromium } from 'playwright-core';
import { withLocalGanql } from './lib/local-ganql';

async function main(): Promise<void> {
  await withLocalGanql(async (base) => {
    const browser = await chromium.launch({
      executablePath: process.env.GANQL_CHROMIUM ?? '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 640 } });
    await page.goto(`${base}/playground`);
    await page.waitForSelector('.graphiql-container');
    await page.locator('.graphiql-query-editor .CodeMirror').first().click();
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText('query Digits {\n  serverInfo { backend database }\n  models { id dataset latentSize }\n  samples(count: 2, seed: 7) {\n    id\n    image { width height }\n  }\n}');
    await page.waitForTimeout(300);
    await page.locator('.graphiql-execute-button').click();
    await page.waitForFunction(() => document.querySelector('.graphiql-response')?.textContent?.includes('"width": 28'));
    await page.screenshot({ path: path.resolve(__dirname, '../docs/explorer.png') });
    console.log('wrote docs/explorer.png');
  } finally {
    await browser.close();
  }
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
