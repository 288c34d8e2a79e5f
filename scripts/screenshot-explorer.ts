/**
 * Screenshot of the explorer running a query against a real in-process server (for docs/api.md): the
 * served models and Le et al.'s neuron probe on the shipped autoencoder, the best "digit 0" units.
 *   npx tsx scripts/screenshot-explorer.ts   writes docs/explorer.png (needs Debian's chromium)
 */
import path from 'node:path';
import { chromium } from 'playwright-core';
import { withLocalGanql } from './lib/local-ganql';

const QUERY = `query GrandmotherNeurons {
  models { id featureNetworkRole }
  neuronProbe(
    modelId: "mnist-autoencoder@2026-11-27T10-13"
    layer: "enc_hidden1"
    concept: "0"
    neurons: 2
    topImages: 1
  ) {
    positives negatives
    neurons { neuron accuracy threshold }
  }
}`;

async function main(): Promise<void> {
  await withLocalGanql(async (base) => {
    const browser = await chromium.launch({
      executablePath: process.env.GANQL_CHROMIUM ?? '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      await page.goto(`${base}/playground`);
      await page.waitForSelector('.graphiql-container');
      await page.locator('.graphiql-query-editor .CodeMirror').first().click();
      await page.keyboard.press('Control+A');
      await page.keyboard.press('Delete');
      await page.keyboard.insertText(QUERY);
      await page.waitForTimeout(300);
      await page.locator('.graphiql-execute-button').click();
      await page.waitForFunction(() => document.querySelector('.graphiql-response')?.textContent?.includes('"threshold"'), undefined, { timeout: 120_000 });
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
