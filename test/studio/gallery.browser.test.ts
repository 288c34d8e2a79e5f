import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyService } from '../../src/auth/api-key.service';
import { pngBytes } from '../helpers/data-url';
import { naturalWidths, scrollsSideways, shownPngs, skipBrowserTests, startStudio, type Studio } from './browser';

interface Sample {
  id: string;
  latent: number[];
  image: { dataUrl: string };
}

async function generate(page: Page, seed: string, count: string): Promise<void> {
  await page.fill('input[name=seed]', seed);
  await page.fill('input[name=count]', count);
  await page.click('form[aria-label="Generate samples"] button[type=submit]');
}

describe.skipIf(skipBrowserTests('gallery'))('the studio gallery in a browser', () => {
  let studio: Studio;

  beforeAll(async () => {
    studio = await startStudio();
  });

  afterAll(async () => {
    await studio?.stop();
  });

  it("shows the samples the API makes for a seed, and a sample's id, latent and nearest training image", async () => {
    const { page, problems } = await studio.newPage();
    await studio.open(page, 'gallery');
    expect(await page.title()).toBe('ganql studio - Gallery');
    expect(await page.locator('.nav a[aria-current=page]').textContent()).toBe('Gallery');
    await page.waitForSelector('select[name=modelId] option[value="dcgan-mnist@2026-12-06T04-16"]', { state: 'attached' });

    await generate(page, '7', '6');
    await page.waitForFunction(() => document.querySelectorAll('#gallery-grid img').length === 6);
    // The grid loads each sample by its URL (Image.url), not as base64 in the JSON.
    const srcs = await page.$$eval('#gallery-grid img', (images) => images.map((img) => img.getAttribute('src') ?? ''));
    for (const src of srcs) expect(src).toMatch(/^\/images\/[0-9a-f-]{36}\.png$/);
    expect(await naturalWidths(page, '#gallery-grid img')).toEqual([28, 28, 28, 28, 28, 28]);
    // The same seed through the API gives the same images, in order.
    const api = await studio.server.gql<{ samples: Sample[] }>(
      '{ samples(modelId: "dcgan-mnist@2026-12-06T04-16", count: 6, seed: 7) { id latent image { dataUrl } } }',
    );
    const shownImages = await shownPngs(studio, page, '#gallery-grid img');
    expect(shownImages.map((png) => png.toString('base64'))).toEqual(api.data!.samples.map((s) => pngBytes(s.image.dataUrl).toString('base64')));
    expect(await page.textContent('#gallery-status')).toContain('6 samples of dcgan-mnist@2026-12-06T04-16, seed 7');

    // Choose the third sample: its id is the stored sample that regenerates that very image.
    await page.click('#gallery-grid .sample-button >> nth=2');
    await page.waitForSelector('#detail-id');
    const id = (await page.textContent('#detail-id'))!;
    expect(await page.getAttribute('#gallery-grid .sample-button >> nth=2', 'aria-pressed')).toBe('true');
    const stored = await studio.server.gql<{ sample: Sample }>('query($id: ID!) { sample(id: $id) { id latent image { dataUrl } } }', { id });
    expect(stored.errors).toBeUndefined();
    expect(srcs[2]).toBe(`/images/${id}.png`);
    expect(pngBytes(stored.data!.sample.image.dataUrl).equals(shownImages[2])).toBe(true);
    expect(await page.getAttribute('#detail-image', 'src')).toBe(srcs[2]);
    // Its latent: as many numbers as the model's latent size, equal (to 3 decimals) to the stored ones.
    await page.click('#detail-latent summary');
    const shown = ((await page.textContent('#latent-values')) ?? '').split(', ').map(Number);
    expect(shown).toHaveLength(100);
    stored.data!.sample.latent.forEach((v, i) => expect(shown[i]).toBeCloseTo(v, 3));
    // Its nearest training image, as nearestNeighbours answers.
    await page.waitForSelector('#nearest-figure img', { timeout: 60_000 });
    const nearest = await studio.server.gql<{ nearestNeighbours: { trainingIndex: number; distance: number; neighbour: { dataUrl: string } }[] }>(
      'query($ids: [ID!]!) { nearestNeighbours(sampleIds: $ids) { trainingIndex distance neighbour { dataUrl } } }',
      { ids: [id] },
    );
    const expected = nearest.data!.nearestNeighbours[0];
    expect(await page.getAttribute('#nearest-figure', 'data-training-index')).toBe(String(expected.trainingIndex));
    expect(await page.getAttribute('#nearest-figure img', 'src')).toBe(expected.neighbour.dataUrl);
    expect(await page.textContent('#nearest-figure figcaption')).toContain(`distance ${expected.distance.toFixed(2)}`);
    expect(problems).toEqual([]);
  });

  it('pins and unpins with the keyboard, and the pins outlive a reload', async () => {
    const { page, problems } = await studio.newPage();
    await studio.open(page, 'gallery');
    await generate(page, '11', '4');
    await page.waitForFunction(() => document.querySelectorAll('#gallery-grid img').length === 4);
    // Keyboard only: focus the first sample, Enter chooses it, Tab to the pin button, Enter pins.
    await page.focus('#gallery-grid .sample-button >> nth=0');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#pin-button');
    const firstId = (await page.textContent('#detail-id'))!;
    await page.focus('#pin-button');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelectorAll('#gallery-pins li.pin').length === 1);
    expect(await page.getAttribute('#gallery-pins li.pin', 'data-sample-id')).toBe(firstId);
    expect(await page.getAttribute('#gallery-pins li.pin img', 'src')).toBe(`/images/${firstId}.png`);
    expect(await page.textContent('#pin-button')).toBe('Unpin exemplar');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('pin-button');
    // Focus is visible: the focused button draws an outline.
    expect(await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle)).not.toBe('none');

    await page.click('#gallery-grid .sample-button >> nth=1');
    await page.click('#pin-button');
    await page.waitForFunction(() => document.querySelectorAll('#gallery-pins li.pin').length === 2);
    expect(await page.locator('#gallery-grid .pin-mark').count()).toBe(2);

    await page.reload();
    await page.waitForSelector('#gallery-pins li.pin');
    expect(await page.locator('#gallery-pins li.pin').count()).toBe(2);
    await page.click('#gallery-pins button:has-text("Unpin") >> nth=0');
    await page.waitForFunction(() => document.querySelectorAll('#gallery-pins li.pin').length === 1);
    expect(problems).toEqual([]);
  });

  it("shows the server's words for a bad seed, in the page", async () => {
    const { page } = await studio.newPage();
    await studio.open(page, 'gallery');
    await generate(page, '-1', '4');
    const alert = page.locator('form[aria-label="Generate samples"] [role=alert]');
    await alert.waitFor();
    const api = await studio.server.gql('{ samples(count: 4, seed: -1) { id } }');
    const message = api.errors![0].message;
    expect(message).toMatch(/seed/);
    expect(await alert.textContent()).toBe(`Error: ${message}`);
    expect(await alert.isVisible()).toBe(true);
    expect(await page.locator('#gallery-grid img').count()).toBe(0);
    // Too many at once: the server's limit, in words.
    await generate(page, '1', '100000');
    await page.waitForFunction(
      () => /count|images|expected/.test(document.querySelector('form [role=alert]')?.textContent ?? '') && !document.querySelector('button[aria-busy]'),
    );
    expect(await alert.textContent()).toMatch(/^Error: .*(count|images).*100000/);
  });

  it('fits a 375 px screen with no sideways scroll, and makes the narrow screenshot', async () => {
    for (const width of [375, 390]) {
      const { page, problems } = await studio.newPage({ width, height: 844 });
      await studio.open(page, 'gallery');
      await generate(page, '7', '16');
      await page.waitForFunction(() => document.querySelectorAll('#gallery-grid img').length === 16);
      await page.click('#gallery-grid .sample-button >> nth=0');
      await page.waitForSelector('#nearest-figure img', { timeout: 60_000 });
      await page.click('#detail-latent summary');
      await page.click('header .settings summary');
      expect(await scrollsSideways(page), `${width} px`).toBe(false);
      await page.click('header .settings summary');
      expect(await scrollsSideways(page), `${width} px`).toBe(false);
      if (width === 390) {
        await page.evaluate(() => window.scrollTo(0, 0));
        await studio.screenshot(page, 'studio-gallery-narrow');
      }
      expect(problems).toEqual([]);
    }
  });

  it('makes the wide screenshot', async () => {
    const { page } = await studio.newPage();
    await studio.open(page, 'gallery');
    await generate(page, '7', '24');
    await page.waitForFunction(() => document.querySelectorAll('#gallery-grid img').length === 24);
    for (const i of [1, 4, 9]) {
      await page.click(`#gallery-grid .sample-button >> nth=${i}`);
      await page.click('#pin-button');
    }
    await page.click('#gallery-grid .sample-button >> nth=5');
    await page.waitForSelector('#nearest-figure img', { timeout: 60_000 });
    await page.evaluate(() => {
      (document.activeElement as HTMLElement | null)?.blur();
      window.scrollTo(0, 0);
    });
    await studio.screenshot(page, 'studio-gallery');
  });
});

describe.skipIf(skipBrowserTests('gallery (scopes)'))('the studio gallery where anonymous clients may do nothing', () => {
  let studio: Studio;

  beforeAll(async () => {
    studio = await startStudio({ env: { GANQL_ANONYMOUS_SCOPES: '' } });
  });

  afterAll(async () => {
    await studio?.stop();
  });

  it('says in words that a key is needed, and works once one is pasted under Settings', async () => {
    const { page } = await studio.newPage();
    await studio.open(page, 'gallery');
    const alert = page.locator('form[aria-label="Generate samples"] [role=alert]');
    await alert.waitFor();
    const text = (await alert.textContent())!;
    expect(text).toContain('This needs an API key with the sample scope.');
    expect(text).toContain('npm run keys -- create --name me --scopes read,sample,train');
    expect(text).toContain('paste it under Settings');
    expect(await alert.getAttribute('data-code')).toBe('UNAUTHENTICATED');

    const key = (await new ApiKeyService(studio.server.ganql.database.prisma).create('studio', 'sample')).token;
    await page.click('header .settings summary');
    await page.fill('#api-key', key);
    await page.press('#api-key', 'Enter');
    expect(await page.textContent('#key-state')).toBe('key set');
    expect(await page.evaluate(() => localStorage.getItem('ganql.apiKey'))).toBe(key);
    // The page asks again with the key: the model list loads and the error goes.
    await page.waitForSelector('select[name=modelId] option[value="dcgan-mnist@2026-12-06T04-16"]', { state: 'attached' });
    expect(await alert.count()).toBe(0);
    await generate(page, '3', '2');
    await page.waitForFunction(() => document.querySelectorAll('#gallery-grid img').length === 2);
    expect(await alert.count()).toBe(0);
    // An <img> cannot send the key: the studio fetches each image with it and shows it from a blob: URL.
    await page.waitForFunction(() => Array.from(document.querySelectorAll('#gallery-grid img')).every((img) => img.getAttribute('src')?.startsWith('blob:')));
    expect(await naturalWidths(page, '#gallery-grid img')).toEqual([28, 28]);
  });
});
