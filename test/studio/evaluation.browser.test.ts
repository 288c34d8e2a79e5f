import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scrollsSideways, skipBrowserTests, startStudio, type Studio } from './browser';

interface EvaluationOut {
  runId: string;
  modelId: string;
  samples: number;
  seed: number;
  inceptionScore: { mean: number; std: number };
  fid: number;
  kid: { mean: number; std: number };
}

const SHIPPED = 'dcgan-mnist@2026-12-06T04-16';

describe.skipIf(skipBrowserTests('evaluation'))('the studio evaluation page', () => {
  let studio: Studio;
  let page: Page;
  let problems: string[];

  beforeAll(async () => {
    studio = await startStudio();
    ({ page, problems } = await studio.newPage());
  });

  afterAll(async () => {
    await studio?.stop();
  });

  async function runFromThePage(seed: string): Promise<void> {
    await page.locator('#eval-samples').fill('200');
    await page.locator('#eval-splits').fill('2');
    await page.locator('#eval-seed').fill(seed);
    const before = await page.locator('.eval-table tbody tr[data-run-id]').count();
    await page.getByRole('button', { name: 'Run evaluation' }).click();
    // Progress shows while the run works, then the result is added to the table and the plots.
    await page.waitForSelector('.eval-run .progress:not([hidden])', { timeout: 10_000 });
    await page.waitForFunction((n) => document.querySelectorAll('.eval-table tbody tr[data-run-id]').length === n + 1, before, { timeout: 50_000 });
  }

  it('plots IS, FID and KID of the shipped model after running evaluations from the button', async () => {
    await studio.open(page, 'evaluation');
    expect(await page.title()).toBe('ganql studio - Evaluation');
    await page.waitForFunction((id) => (document.getElementById('eval-model') as HTMLSelectElement | null)?.value === id, SHIPPED, { timeout: 15_000 });
    await expect.poll(() => page.locator('.eval-table tbody').textContent(), { timeout: 15_000 }).toBe('No evaluations of this version yet: run one.');
    expect(await page.locator('.eval-plots .plot-empty').count()).toBe(3);

    await runFromThePage('0');
    await runFromThePage('1');
    expect(await page.locator('.eval-run .progress-text').textContent()).toMatch(/^Done: IS \d+\.\d{3} \u00b1 \d+\.\d{3}, FID \d+\.\d{2}, KID /);

    // What the page shows is what the API stored, newest first.
    const body = await studio.server.gql<{ evaluations: EvaluationOut[] }>(
      'query($m: ID) { evaluations(modelId: $m) { runId modelId samples seed inceptionScore { mean std } fid kid { mean std } } }',
      { m: SHIPPED },
    );
    const stored = body.data!.evaluations;
    expect(stored.map((e) => [e.modelId, e.samples, e.seed])).toEqual([
      [SHIPPED, 200, 1],
      [SHIPPED, 200, 0],
    ]);
    const rows = await page.$$eval('.eval-table tbody tr[data-run-id]', (trs) =>
      trs.map((tr) => [
        tr.getAttribute('data-run-id'),
        ...Array.from(tr.querySelectorAll('td'))
          .slice(5)
          .map((td) => td.textContent),
      ]),
    );
    expect(rows).toEqual(
      stored.map((e) => [
        e.runId,
        `${e.inceptionScore.mean.toFixed(3)} \u00b1 ${e.inceptionScore.std.toFixed(3)}`,
        e.fid.toFixed(2),
        `${e.kid.mean.toPrecision(3)} \u00b1 ${e.kid.std.toPrecision(2)}`,
      ]),
    );
    // A trained DCGAN scores well above noise on 10 classes.
    for (const e of stored) expect(e.inceptionScore.mean).toBeGreaterThan(3);

    // Each plot has both evaluations, IS and KID with error bars; the accessible description names the latest value.
    const is = page.locator('.eval-plots svg').nth(0);
    expect(await is.locator('circle.plot-point').count()).toBe(2);
    expect(await is.locator('path.plot-error').count()).toBe(2);
    expect(await is.locator('path.plot-line').count()).toBe(1);
    expect(await is.locator('desc').textContent()).toContain(
      `latest ${stored[0].inceptionScore.mean.toFixed(3)} \u00b1 ${stored[0].inceptionScore.std.toFixed(3)}`,
    );
    expect(await page.locator('.eval-plots svg').nth(1).locator('circle.plot-point').count()).toBe(2);
    expect(await page.locator('.eval-plots svg').nth(2).locator('path.plot-error').count()).toBe(2);
    expect(await page.locator('.eval-plots svg').evaluateAll((svgs) => svgs.map((s) => s.getAttribute('role')))).toEqual(['img', 'img', 'img']);

    await page.locator('h1').focus();
    await page.evaluate(() => window.scrollTo(0, 0));
    await studio.screenshot(page, 'studio-evaluation');
    expect(problems).toEqual([]);
  });

  it('shows a refused evaluation in words and fits a 375 px screen', async () => {
    await page.locator('#eval-samples').fill('50');
    await page.getByRole('button', { name: 'Run evaluation' }).click();
    const alert = page.locator('.eval-run [role="alert"]');
    await expect.poll(() => alert.textContent(), { timeout: 15_000 }).toMatch(/^Error: samples: expected .*100\.\.50000.*got 50/);
    await page.setViewportSize({ width: 375, height: 800 });
    await page.waitForTimeout(100);
    expect(await scrollsSideways(page)).toBe(false);
    expect(problems).toEqual([]);
  });
});
