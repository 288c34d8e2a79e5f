/**
 * Screenshot of the explorer running a query against a real in-process server (for the README):
 *   npx tsx scripts/screenshot-explorer.ts   writes docs/explorer.png (needs Debian's chromium)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { loadConfig } from '../src/config/config';
import { createLogger } from '../src/log/logger';
import { createGanql } from '../src/server/app';

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ganql-shot-'));
  const config = loadConfig({ GANQL_BACKEND: 'wasm', GANQL_LOG_LEVEL: 'error', DATABASE_URL: `file:${path.join(dir, 'shot.db')}`, HOST: '127.0.0.1', PORT: '0' });
  const ganql = await createGanql(config, createLogger('error'));
  const { port } = await ganql.listen();
  const browser = await chromium.launch({
    executablePath: process.env.GANQL_CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 640 } });
    await page.goto(`http://127.0.0.1:${port}/playground`);
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
    await ganql.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
