import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pngBytes } from '../helpers/data-url';
import { naturalWidths, scrollsSideways, shownPngs, skipBrowserTests, startStudio, type Studio } from './browser';

const MODEL = 'dcgan-mnist@2026-12-06T04-16';

interface Sample {
  id: string;
  image: { url: string; dataUrl: string };
}

/** A PNG as base64, to compare what a page shows with the API's dataUrls. */
const b64 = (dataUrl: string): string => pngBytes(dataUrl).toString('base64');

describe.skipIf(skipBrowserTests('latent explorer'))('the studio latent explorer in a browser', () => {
  let studio: Studio;
  let pinned: Sample[];

  beforeAll(async () => {
    studio = await startStudio();
    const body = await studio.server.gql<{ samples: Sample[] }>(`{ samples(modelId: "${MODEL}", count: 9, seed: 21) { id image { url dataUrl } } }`);
    pinned = body.data!.samples;
  });

  afterAll(async () => {
    await studio?.stop();
  });

  /** Opens the explorer with the nine samples pinned, as the gallery's Pin button stores them (the last as an older studio did, by its data URL). */
  async function openWithPins(width = 1280, height = 800): Promise<{ page: Page; problems: string[] }> {
    const { page, problems } = await studio.newPage({ width, height });
    await studio.open(page, 'gallery');
    await page.evaluate(
      (pins) => localStorage.setItem('ganql.pins', JSON.stringify(pins)),
      pinned.map((s, i) =>
        i < 8 ? { id: s.id, modelId: MODEL, src: s.image.url, label: `#${i + 1}` } : { id: s.id, modelId: MODEL, dataUrl: s.image.dataUrl, label: `#${i + 1}` },
      ),
    );
    await page.click('.nav a[data-page=latent]');
    await page.waitForFunction(() => document.activeElement?.tagName === 'H1' && document.title === 'ganql studio - Latent');
    await page.waitForSelector('#arith-palette li.pin');
    return { page, problems };
  }

  async function buildConcepts(page: Page): Promise<void> {
    // Keyboard: focus each concept button and press Enter (Space would do as well).
    for (let n = 1; n <= 9; n++) {
      const concept = n <= 3 ? 'A' : n <= 6 ? 'B' : 'C';
      await page.focus(`button[aria-label="Add pin ${n} to concept ${concept}"]`);
      await page.keyboard.press(n % 2 === 0 ? 'Space' : 'Enter');
    }
    for (const concept of ['A', 'B', 'C']) expect(await page.locator(`#concept-${concept} li.pin`).count()).toBe(3);
  }

  it('walks between two pins (linear), ends equal to the pins, images as interpolate returns them', async () => {
    const { page, problems } = await openWithPins();
    expect(await page.locator('#latent-model option').first().textContent()).toBe(`${MODEL} (9 pinned)`);
    // Defaults: from pin 1 to pin 2; choose pin 4 as the end, and the linear walk.
    await page.click('#walk-to label:has(img[alt="Pin 4"])');
    await page.check('input[name=method][value=LINEAR]');
    await page.fill('input[name=steps]', '6');
    await page.click('#walk-heading ~ .row button[type=submit]');
    await page.waitForFunction(() => document.querySelectorAll('#walk-strip img').length === 6);
    const srcs = await page.$$eval('#walk-strip img', (images) => images.map((img) => img.getAttribute('src')!));
    for (const src of srcs) expect(src).toMatch(/^\/images\/[0-9a-f-]{36}\.png$/);
    expect(await naturalWidths(page, '#walk-strip img')).toEqual([28, 28, 28, 28, 28, 28]);
    const shown = (await shownPngs(studio, page, '#walk-strip img')).map((png) => png.toString('base64'));
    const api = await studio.server.gql<{ interpolate: { samples: Sample[] } }>(
      'query($a: ID!, $b: ID!) { interpolate(modelId: "dcgan-mnist@2026-12-06T04-16", from: { sampleId: $a }, to: { sampleId: $b }, steps: 6, method: LINEAR) { samples { image { dataUrl } } } }',
      { a: pinned[0].id, b: pinned[3].id },
    );
    expect(shown).toEqual(api.data!.interpolate.samples.map((s) => b64(s.image.dataUrl)));
    expect(shown[0]).toBe(b64(pinned[0].image.dataUrl));
    expect(shown[5]).toBe(b64(pinned[3].image.dataUrl));
    expect(await page.textContent('#walk-status')).toBe('Linear walk of 6 images from pin 1 to pin 4.');
    expect(problems).toEqual([]);
  });

  it('builds A - B + C from 3 + 3 + 3 pinned exemplars with the keyboard and shows the 3x3 box the API computes', async () => {
    const { page, problems } = await openWithPins();
    await buildConcepts(page);
    expect(await page.textContent('#arith-compute')).toBe('Compute A − B + C');
    await page.focus('#arith-compute');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelectorAll('#arith-box img').length === 9, null, { timeout: 60_000 });
    const box = await page.$$eval('#arith-box img', (images) =>
      images.map((img) => ({ src: img.getAttribute('src')!, centre: img.classList.contains('centre') })),
    );
    for (const { src } of box) expect(src).toMatch(/^\/images\/[0-9a-f-]{36}\.png$/);
    expect(await naturalWidths(page, '#arith-box img')).toEqual(Array(9).fill(28));
    expect(box.map((b) => b.centre)).toEqual([false, false, false, false, true, false, false, false, false]);
    // The same terms through the API (seed 1 is the page's default) give the same result and neighbours.
    const terms = [1, -1, 1].map((coefficient, t) => ({ coefficient, exemplars: pinned.slice(3 * t, 3 * t + 3).map((s) => ({ sampleId: s.id })) }));
    const api = await studio.server.gql<{ latentArithmetic: { result: Sample; neighbours: Sample[]; concepts: { mean: Sample }[] } }>(
      `query($terms: [ConceptTermInput!]!) { latentArithmetic(modelId: "${MODEL}", terms: $terms, neighbours: 8, noise: 0.25, seed: 1) { result { image { dataUrl } } neighbours { image { dataUrl } } concepts { mean { image { dataUrl } } } } }`,
      { terms },
    );
    const expected = api.data!.latentArithmetic;
    const shown = (await shownPngs(studio, page, '#arith-box img')).map((png) => png.toString('base64'));
    expect(shown[4]).toBe(b64(expected.result.image.dataUrl));
    expect([...shown.slice(0, 4), ...shown.slice(5)]).toEqual(expected.neighbours.map((s) => b64(s.image.dataUrl)));
    const means = (await shownPngs(studio, page, '#arith-means img')).map((png) => png.toString('base64'));
    expect(means).toEqual([...expected.concepts.map((c) => b64(c.mean.image.dataUrl)), b64(expected.result.image.dataUrl)]);
    // Pins show by their URL; one an older studio stored by its data URL still shows.
    expect(await page.getAttribute('#arith-palette li.pin >> nth=0 >> img', 'src')).toBe(pinned[0].image.url);
    expect(await page.getAttribute('#arith-palette li.pin >> nth=8 >> img', 'src')).toBe(pinned[8].image.dataUrl);
    expect(await naturalWidths(page, '#arith-palette li.pin img')).toEqual(Array(9).fill(28));
    expect(await page.textContent('#arith-means')).toContain('A (mean of 3)');
    expect(problems).toEqual([]);
  });

  it("shows the server's words for bad input, and asks for pins when there are none", async () => {
    const { page } = await openWithPins();
    await buildConcepts(page);
    await page.fill('input[name=noise]', '5');
    await page.click('#arith-compute');
    const alert = page.locator('#arith-heading + [role=alert]');
    await alert.waitFor();
    const api = await studio.server.gql(`query($t: [ConceptTermInput!]!) { latentArithmetic(terms: $t, noise: 5) { seed } }`, {
      t: [{ coefficient: 1, exemplars: [{ sampleId: pinned[0].id }] }],
    });
    const message = api.errors![0].message;
    expect(message).toMatch(/noise/);
    expect(await alert.textContent()).toBe(`Error: ${message}`);

    await page.evaluate(() => localStorage.removeItem('ganql.pins'));
    await page.reload();
    await page.waitForSelector('#latent-pins-note a[href="#/gallery"]');
    expect(await page.textContent('#latent-pins-note')).toContain('Nothing is pinned yet.');
    expect(await page.isDisabled('#walk-heading ~ .row button[type=submit]')).toBe(true);
  });

  it('fits a 375 px screen with results shown, and makes the screenshot', async () => {
    const { page: narrow } = await openWithPins(375, 812);
    await buildConcepts(narrow);
    await narrow.click('#arith-compute');
    await narrow.waitForFunction(() => document.querySelectorAll('#arith-box img').length === 9, null, { timeout: 60_000 });
    await narrow.click('#walk-heading ~ .row button[type=submit]');
    await narrow.waitForFunction(() => document.querySelectorAll('#walk-strip img').length === 8);
    expect(await scrollsSideways(narrow)).toBe(false);

    const { page } = await openWithPins();
    await buildConcepts(page);
    await page.click('#arith-compute');
    await page.waitForFunction(() => document.querySelectorAll('#arith-box img').length === 9, null, { timeout: 60_000 });
    await page.fill('input[name=steps]', '12');
    await page.click('#walk-heading ~ .row button[type=submit]');
    await page.waitForFunction(() => document.querySelectorAll('#walk-strip img').length === 12);
    expect(await scrollsSideways(page)).toBe(false);
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await page.evaluate(() => document.querySelector('#arith-heading')!.scrollIntoView());
    await studio.screenshot(page, 'studio-latent');
  });
});
