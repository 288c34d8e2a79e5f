import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyService } from '../../src/auth/api-key.service';
import { naturalWidths, scrollsSideways, skipBrowserTests, startStudio, type Studio } from './browser';
import { fillTrainingForm, pasteApiKey } from './train-eval-helpers';

interface JobOut {
  id: string;
  name: string;
  state: string;
  modelId: string | null;
  epochsCompleted: number;
  error: string | null;
  spec: { architecture: string; epochs: number; batchSize: number; limit: number | null; seed: number; techniques: { labelSmoothing: number | null } };
  epochs: { epoch: number; generatorLoss: number; imagesPerSecond: number | null }[];
}

const JOB =
  'id name state modelId epochsCompleted error spec { architecture epochs batchSize limit seed techniques { labelSmoothing } } epochs { epoch generatorLoss imagesPerSecond }';

// Anonymous clients may only sample here (the server's policy for remote clients): the page must say
// a key is needed, and work once an admin key is pasted under Settings.
describe.skipIf(skipBrowserTests('training'))('the studio training page', () => {
  let studio: Studio;
  let page: Page;
  let problems: string[];

  async function job(id: string): Promise<JobOut> {
    const body = await studio.server.http
      .post('/graphql')
      .set('authorization', `Bearer ${adminKey}`)
      .send({ query: `query($id: ID!) { trainingJob(id: $id) { ${JOB} } }`, variables: { id } });
    expect(body.body.errors).toBeUndefined();
    return body.body.data.trainingJob as JobOut;
  }

  let adminKey: string;

  beforeAll(async () => {
    studio = await startStudio({ env: { GANQL_ANONYMOUS_SCOPES: 'sample' }, server: { tempModels: true } });
    adminKey = (await new ApiKeyService(studio.server.ganql.database.prisma).create('studio admin', 'admin')).token;
    ({ page, problems } = await studio.newPage());
  });

  afterAll(async () => {
    await studio?.stop();
  });

  it('says in words that training needs a key, then trains live once an admin key is pasted', async () => {
    await studio.open(page, 'training');
    expect(await page.title()).toBe('ganql studio - Training');
    // The jobs list needs `read`: refused, in words naming the scope and the command.
    const jobsError = page.locator('.train-jobs [role="alert"]');
    await expect.poll(() => jobsError.textContent(), { timeout: 15_000 }).toContain('This needs an API key with the read scope');
    expect(await jobsError.textContent()).toContain('npm run keys -- create');

    await fillTrainingForm(page, { architecture: 'MLP', epochs: '2', batchSize: '32', limit: '128', seed: '9', name: 'studio-mlp', labelSmoothing: '0.9' });
    await page.getByRole('button', { name: 'Start training' }).click();
    const startError = page.locator('.train-start [role="alert"]');
    await expect.poll(() => startError.textContent(), { timeout: 15_000 }).toContain('This needs an API key with the train scope');
    expect(await startError.textContent()).toContain('paste it under Settings');

    // Paste the key: the jobs list reads again by itself, and Start now works (Enter submits the form).
    await pasteApiKey(page, adminKey);
    await expect.poll(() => page.locator('.train-jobs .job-list li').first().textContent(), { timeout: 15_000 }).toBe('No training jobs yet.');
    expect(await jobsError.count()).toBe(0);
    await page.locator('.train-form input[name="epochs"]').press('Enter');

    // Live: an epoch row and the fixed-noise grid appear while it runs, then it succeeds.
    await page.waitForSelector('.epochs-table tbody tr[data-epoch="1"]', { timeout: 45_000 });
    expect(await startError.count()).toBe(0);
    await page.waitForFunction(() => document.querySelector('.train-watch .watch-head .state')?.textContent === 'SUCCEEDED', null, { timeout: 45_000 });
    const id = await page.locator('.job-list li[data-job-id]').first().getAttribute('data-job-id');
    const done = await job(id!);
    expect(done).toMatchObject({
      name: 'studio-mlp',
      state: 'SUCCEEDED',
      epochsCompleted: 2,
      spec: { architecture: 'MLP', epochs: 2, batchSize: 32, limit: 128, seed: 9, techniques: { labelSmoothing: 0.9 } },
    });
    expect(await page.locator('.job-meta').textContent()).toBe('MLP on MNIST; 2 epochs of batch 32, lr 0.0002, seed 9, 128 images; label smoothing 0.9.');
    expect(await page.locator('.train-watch h2').textContent()).toBe(`Job ${done.modelId}`);
    expect(await page.locator('.job-result code').textContent()).toBe(done.modelId);
    // The epochs table matches the API, row by row.
    const rows = await page.$$eval('.epochs-table tbody tr', (trs) =>
      trs.map((tr) => [tr.querySelector('th')!.textContent, tr.querySelector('td')!.textContent]),
    );
    expect(rows).toEqual(done.epochs.map((e) => [String(e.epoch), e.generatorLoss.toFixed(3)]));
    // Each epoch's throughput, to three significant figures of the API's.
    const rates = (await page.locator('.epochs-table tbody td[data-col="images-per-second"]').allTextContents()).map(Number);
    expect(rates).toHaveLength(2);
    rates.forEach((rate, i) => {
      const api = done.epochs[i].imagesPerSecond!;
      expect(api).toBeGreaterThan(0);
      expect(Math.abs(rate - api) / api).toBeLessThan(0.01);
    });
    // The epoch plot has one marker per epoch and series; the grid is the 8x8 sample sheet (8*28 + 9*2 px).
    expect(await page.locator('.epoch-plot .plot-series[data-series="G loss"] circle.plot-point').count()).toBe(2);
    expect(await naturalWidths(page, '.sample-grid img')).toEqual([242]);
    expect(await page.locator('.sample-grid figcaption').textContent()).toContain('Epoch 2');
    expect(await page.locator('.train-watch progress').evaluate((bar) => (bar as HTMLProgressElement).value)).toBe(1);
    expect(await page.locator('.job-list li[data-job-id] .state').first().textContent()).toBe('SUCCEEDED');
    expect(await scrollsSideways(page)).toBe(false);
  });

  it('cancels a running job from the page; its completed epochs stay', async () => {
    await fillTrainingForm(page, { architecture: 'MLP', epochs: '1000', batchSize: '32', limit: '64', seed: '1', name: 'studio-long', labelSmoothing: '' });
    await page.getByRole('button', { name: 'Start training' }).click();
    await page.waitForFunction(() => document.querySelector('.train-watch h2')?.textContent?.startsWith('Job studio-long@'), null, { timeout: 15_000 });
    // Step losses stream in before any epoch ends: the step plot draws them.
    await page.waitForSelector('.epochs-table tbody tr[data-epoch="1"]', { timeout: 30_000 });
    const steps = Number(await page.locator('.step-plot .plot-series[data-series="generator"]').getAttribute('data-points'));
    expect(steps).toBeGreaterThan(0);
    // The step counter shows the latest step's throughput beside it.
    await expect.poll(() => page.locator('#train-progress-label').textContent()).toMatch(/step \d+ of \d+, \d+(\.\d+)? images\/s$/);
    const shown = /, (\S+) images\/s$/.exec((await page.locator('#train-progress-label').textContent())!)![1];
    expect(Number(shown)).toBeGreaterThan(0);
    const cancel = page.getByRole('button', { name: 'Cancel job' });
    await cancel.focus();
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelector('.train-watch .watch-head .state')?.textContent === 'CANCELLED', null, { timeout: 30_000 });
    const id = await page.locator('.job-list li[data-job-id]').first().getAttribute('data-job-id');
    const cancelled = await job(id!);
    expect(cancelled.state).toBe('CANCELLED');
    expect(cancelled.epochsCompleted).toBeGreaterThanOrEqual(1);
    expect(cancelled.error).toBe(`cancelled after ${cancelled.epochsCompleted} of 1000 epochs`);
    await expect.poll(() => page.locator('.job-result').textContent()).toBe(`CANCELLED: ${cancelled.error}`);
    expect(await cancel.isHidden()).toBe(true);
    await expect.poll(() => page.locator(`.job-list li[data-job-id="${id}"] .state`).textContent()).toBe('CANCELLED');

    // A finished job watched again from the list: its END at once, its epochs and last grid from the job.
    await page.getByRole('button', { name: /^Watch job studio-mlp@/ }).click();
    await page.waitForFunction(() => document.querySelector('.train-watch h2')?.textContent?.startsWith('Job studio-mlp@'), null, { timeout: 15_000 });
    await expect.poll(() => page.locator('.epochs-table tbody tr').count(), { timeout: 15_000 }).toBe(2);
    await expect.poll(() => page.locator('.sample-grid figcaption').textContent()).toContain('Epoch 2');
    expect(await page.locator('.train-watch .watch-head .state').textContent()).toBe('SUCCEEDED');
    expect(await cancel.isHidden()).toBe(true);
  });

  it('shows a refused input in words and marks the field', async () => {
    await fillTrainingForm(page, { architecture: 'MLP', epochs: '1', learningRate: '2', limit: '64' });
    await page.getByRole('button', { name: 'Start training' }).click();
    const alert = page.locator('.train-start [role="alert"]');
    await expect.poll(() => alert.textContent(), { timeout: 15_000 }).toBe('Error: learningRate: expected a number > 0 and <= 1, got 2');
    expect(await page.locator('.train-form input[name="learningRate"]').getAttribute('aria-invalid')).toBe('true');
    expect(await page.evaluate(() => (document.activeElement as HTMLInputElement | null)?.name)).toBe('learningRate');
    // A blank epochs is caught before the request, in the same words.
    await fillTrainingForm(page, { epochs: '', learningRate: '0.0002' });
    await page.getByRole('button', { name: 'Start training' }).click();
    await expect.poll(() => alert.textContent()).toBe('Error: epochs: expected an integer in 1..1000, got nothing');
    expect(problems).toEqual([]);
  });

  it('trains a sparse autoencoder (Le et al.): no GAN switches, its losses named as they are', async () => {
    // A GAN switch left on before the mode changes must not be sent.
    await fillTrainingForm(page, { from: '', mode: 'GAN', labelSmoothing: '0.9' });
    await fillTrainingForm(page, {
      mode: 'AUTOENCODER',
      architecture: 'MLP',
      epochs: '1',
      batchSize: '32',
      limit: '128',
      seed: '5',
      name: 'studio-ae',
      learningRate: '0.003',
    });
    expect(await page.locator('.train-form fieldset.techniques').isHidden()).toBe(true);
    await page.getByRole('button', { name: 'Start training' }).click();
    // The panel still shows the previous job until the mutation answers: wait for this one's before reading its state.
    await page.waitForFunction(() => document.querySelector('.train-watch h2')?.textContent?.startsWith('Job studio-ae@'), null, { timeout: 15_000 });
    await page.waitForFunction(() => document.querySelector('.train-watch .watch-head .state')?.textContent === 'SUCCEEDED', null, { timeout: 60_000 });
    const id = await page.locator('.job-list li[data-job-id]').first().getAttribute('data-job-id');
    const done = await job(id!);
    // The hidden label-smoothing switch was not sent (the server would refuse it in this mode).
    expect(done).toMatchObject({
      name: 'studio-ae',
      state: 'SUCCEEDED',
      epochsCompleted: 1,
      spec: { architecture: 'MLP', techniques: { labelSmoothing: null } },
    });
    expect(await page.locator('.job-meta').textContent()).toBe('sparse autoencoder, MLP on MNIST; 1 epochs of batch 32, lr 0.003, seed 5, 128 images.');
    expect(await page.locator('.epoch-plot .plot-series[data-series="reconstruction"] circle.plot-point').count()).toBe(1);
    await fillTrainingForm(page, { mode: 'GAN', labelSmoothing: '', learningRate: '0.0002' });
    expect(problems).toEqual([]);
  });

  it('takes the screenshot of a fine-tuning job after two epochs', async () => {
    await fillTrainingForm(page, { from: 'dcgan-mnist@2026-12-06T04-16', epochs: '2', batchSize: '32', limit: '64', seed: '3', name: '' });
    await page.getByRole('button', { name: 'Start training' }).click();
    await page.waitForFunction(
      () =>
        document.querySelector('.train-watch h2')?.textContent?.startsWith('Job ') &&
        !document.querySelector('.train-watch h2')?.textContent?.startsWith('Job studio-ae@'),
      null,
      { timeout: 15_000 },
    );
    await page.waitForFunction(() => document.querySelector('.train-watch .watch-head .state')?.textContent === 'SUCCEEDED', null, { timeout: 60_000 });
    expect(await page.locator('.epochs-table tbody tr').count()).toBe(2);
    await page.locator('h1').focus();
    await page.evaluate(() => window.scrollTo(0, 0));
    await studio.screenshot(page, 'studio-training');
    // Readable on a phone: no sideways scroll, the plots redrawn to fit.
    await page.setViewportSize({ width: 375, height: 800 });
    await expect.poll(() => page.locator('.step-plot svg').getAttribute('width')).not.toBe(null);
    await page.waitForTimeout(300);
    expect(await scrollsSideways(page)).toBe(false);
    expect(Number(await page.locator('.step-plot svg').getAttribute('width'))).toBeLessThanOrEqual(343);
    await page.screenshot({ path: path.join(os.tmpdir(), 'studio-training-narrow.png'), fullPage: true });
    expect(problems).toEqual([]);
  });
});
