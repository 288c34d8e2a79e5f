import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pngBytes } from '../helpers/data-url';
import { naturalWidths, scrollsSideways, shownPngs, skipBrowserTests, startStudio, type Studio } from './browser';

const AUTOENCODER = 'mnist-autoencoder@2026-11-27T10-13';
const DCGAN = 'dcgan-mnist@2026-12-06T04-16';

interface ProbeOut {
  positives: number;
  negatives: number;
  neurons: { neuron: number; accuracy: number; threshold: number | null; topImages: { index: number; image: { dataUrl: string } }[] }[];
}
interface StimulusOut {
  activation: number;
  preActivation: number | null;
  exceedsEveryTestImage: boolean;
  image: { dataUrl: string };
}
interface Score {
  accuracy: number;
  c: number;
  features: number;
}
interface ClassifierOut {
  trainCount: number;
  testCount: number;
  features: Score;
  rawPixels: Score;
}
interface FiltersOut {
  filters: { filter: number; weight: number }[];
  check: { seed: number; before: { conceptSampleProbability: number }; after: { conceptSampleProbability: number } };
}

describe.skipIf(skipBrowserTests('features'))('the studio features page in a browser', () => {
  let studio: Studio;

  beforeAll(async () => {
    studio = await startStudio();
  });

  afterAll(async () => {
    await studio?.stop();
  });

  async function api<T>(query: string, variables?: Record<string, unknown>): Promise<T> {
    const body = await studio.server.gql<T>(query, variables);
    expect(body.errors).toBeUndefined();
    return body.data!;
  }

  async function openFeatures(width = 1280, height = 800, model = AUTOENCODER) {
    const { page, problems } = await studio.newPage({ width, height });
    await studio.open(page, 'features');
    await page.waitForSelector(`#feat-model option[value="${model}"]`, { state: 'attached' });
    if ((await page.inputValue('#feat-model')) !== model) await page.selectOption('#feat-model', model);
    return { page, problems };
  }

  /** Waits until `button` is no longer busy and something it started has shown up in `selector`. */
  async function settle(page: Page, button: string, selector: string) {
    await page.waitForFunction(
      ([b, s]) => !document.querySelector(b)?.hasAttribute('aria-busy') && document.querySelector(s) !== null,
      [button, selector] as const,
      { timeout: 30_000 },
    );
  }

  it('is the fourth page of the nav, and its model select lists the models with a feature network and their layers', async () => {
    const { page, problems } = await openFeatures();
    expect(await page.title()).toBe('ganql studio - Features');
    expect(await page.$$eval('.nav a', (links) => links.map((a) => a.textContent))).toEqual([
      'Gallery',
      'Latent',
      'Classify',
      'Features',
      'Training',
      'Evaluation',
    ]);
    expect(await page.getAttribute('.nav a[data-page=features]', 'aria-current')).toBe('page');
    const models = (await api<{ models: { id: string; featureNetworkRole: string | null }[] }>('{ models { id featureNetworkRole } }')).models;
    const options = await page.$$eval('#feat-model option', (o) => o.map((x) => (x as HTMLOptionElement).value));
    expect(options.sort()).toEqual(
      models
        .filter((m) => m.featureNetworkRole !== null)
        .map((m) => m.id)
        .sort(),
    );
    // The autoencoder (the feature learner) is the default; its encoder's two layers, digits as concepts.
    expect(await page.inputValue('#feat-model')).toBe(AUTOENCODER);
    expect(await page.$$eval('#probe-layer option', (o) => o.map((x) => x.textContent))).toEqual([
      'enc_hidden1 (Dense [256], 256 units)',
      'enc_code (Dense [16], 16 units)',
    ]);
    expect(await page.$$eval('#probe-concept option', (o) => o.map((x) => x.textContent))).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    // The autoencoder's decoder has no feature maps to remove: the panel says so and is disabled.
    expect(await page.textContent('#filter-note')).toContain('has no layer with several feature maps');
    expect(await page.isDisabled('#filter-button')).toBe(true);
    await page.selectOption('#feat-model', DCGAN);
    expect(await page.$$eval('#filter-layer option', (o) => o.map((x) => (x as HTMLOptionElement).value))).toEqual(['g_reshape', 'g_up1', 'g_up1_relu']);
    expect(await page.isDisabled('#filter-button')).toBe(false);
    expect(problems).toEqual([]);
  });

  it('finds the API\'s best "0" neuron of enc_hidden1, and its optimal stimulus exceeds every test image', async () => {
    const { page, problems } = await openFeatures();
    await page.selectOption('#probe-layer', 'enc_hidden1');
    await page.selectOption('#probe-concept', '0');
    // Keyboard: Enter in a field submits the form.
    await page.focus('#feat-neurons');
    await page.keyboard.press('Enter');
    await settle(page, '#probe-button', '#probe-neurons li');

    const probe = (
      await api<{ neuronProbe: ProbeOut }>(
        `{ neuronProbe(modelId: "${AUTOENCODER}", layer: "enc_hidden1", concept: "0", neurons: 5, topImages: 8) { positives negatives neurons { neuron accuracy threshold topImages { index image { dataUrl } } } } }`,
      )
    ).neuronProbe;
    const rows = await page.$$eval('#probe-neurons > li', (items) =>
      items.map((li) => ({
        neuron: Number((li as HTMLElement).dataset.neuron),
        accuracy: Number((li as HTMLElement).dataset.accuracy),
        shown: li.querySelector('.accuracy-value')?.textContent,
        images: Array.from(li.querySelectorAll('img')).map((img) => img.getAttribute('src')),
      })),
    );
    expect(rows.map((r) => r.neuron)).toEqual(probe.neurons.map((n) => n.neuron));
    expect(rows[0].neuron).toBe(161);
    expect(rows[0].accuracy).toBe(probe.neurons[0].accuracy);
    expect(rows[0].shown).toBe(`${(100 * probe.neurons[0].accuracy).toFixed(1)}%`);
    expect(rows[0].images).toEqual(probe.neurons[0].topImages.map((t) => t.image.dataUrl));
    expect(await page.textContent('#probe-summary')).toContain(`${probe.positives} positives, ${probe.negatives} negatives`);
    expect(await page.textContent('#probe-protocol')).toContain('chance is 50%');
    expect(await naturalWidths(page, '#probe-neurons > li:first-child img')).toEqual(Array(8).fill(28));

    // Keyboard again: Tab onto the first row's button and press Enter.
    await page.focus('#probe-neurons > li:first-child .stimulus-button');
    await page.keyboard.press('Enter');
    await settle(page, '#probe-neurons > li:first-child .stimulus-button', '#stimulus-verdict');
    const stimulus = (
      await api<{ optimalStimulus: StimulusOut }>(
        `{ optimalStimulus(modelId: "${AUTOENCODER}", layer: "enc_hidden1", neuron: 161, steps: 200) { activation preActivation exceedsEveryTestImage image { dataUrl } } }`,
      )
    ).optimalStimulus;
    expect(stimulus.exceedsEveryTestImage).toBe(true);
    expect(await page.textContent('#stimulus-verdict')).toContain('exceeds every test image');
    expect(await page.getAttribute('#stimulus-image', 'src')).toBe(stimulus.image.dataUrl);
    expect(await naturalWidths(page, '#stimulus-image')).toEqual([28]);
    expect(Number(await page.getAttribute('#stimulus-activation', 'data-value'))).toBe(stimulus.activation);
    expect(Number(await page.getAttribute('#stimulus-pre', 'data-value'))).toBe(stimulus.preActivation);
    expect(await page.textContent('#stimulus-norm')).toMatch(/within the bound \d+\.\d\d \(the test images’ mean norm/);
    expect(await page.locator('#stimulus svg.plot').count()).toBe(1);
    expect(problems).toEqual([]);

    // The picture: from the model select down, the neurons and the stimulus.
    await page.evaluate(() => {
      (document.activeElement as HTMLElement | null)?.blur();
      window.scrollTo(0, document.querySelector('#feat-model-panel')!.getBoundingClientRect().top + window.scrollY - 8);
    });
    await studio.screenshot(page, 'studio-features');
  });

  it("fits the classifier with the API's numbers, and shows the server's words for 1 label per class", async () => {
    const { page, problems } = await openFeatures();
    // The autoencoder's two layers are ticked by default.
    expect(await page.$$eval('#classifier-layers input:checked', (boxes) => boxes.map((b) => (b as HTMLInputElement).value))).toEqual([
      'enc_hidden1',
      'enc_code',
    ]);
    await page.fill('#classifier-labels', '10');
    await page.click('#classifier-button');
    await settle(page, '#classifier-button', '#classifier-table');
    const r = (
      await api<{ featureClassifier: ClassifierOut }>(
        `{ featureClassifier(modelId: "${AUTOENCODER}", layers: ["enc_hidden1", "enc_code"], labelsPerClass: 10, seed: 0) { trainCount testCount features { accuracy c features } rawPixels { accuracy c features } } }`,
      )
    ).featureClassifier;
    expect(Number(await page.getAttribute('#classifier-features', 'data-accuracy'))).toBe(r.features.accuracy);
    expect(Number(await page.getAttribute('#classifier-pixels', 'data-accuracy'))).toBe(r.rawPixels.accuracy);
    expect(await page.textContent('#classifier-features .feat-bar-value')).toBe(`${(100 * r.features.accuracy).toFixed(1)}%`);
    expect(await page.textContent('#classifier-pixels .feat-bar-value')).toBe(`${(100 * r.rawPixels.accuracy).toFixed(1)}%`);
    const cells = await page.$$eval('#classifier-table tbody tr', (trs) => trs.map((tr) => Array.from(tr.children).map((c) => c.textContent)));
    expect(cells).toEqual([
      ['Features', `${(100 * r.features.accuracy).toFixed(1)}%`, String(r.features.c), r.features.features.toLocaleString('en')],
      ['Raw pixels', `${(100 * r.rawPixels.accuracy).toFixed(1)}%`, String(r.rawPixels.c), r.rawPixels.features.toLocaleString('en')],
    ]);
    expect(await page.getAttribute('#classifier-counts', 'data-train')).toBe(String(r.trainCount));
    expect(await page.getAttribute('#classifier-counts', 'data-test')).toBe(String(r.testCount));

    // A bad input: the server's own message, in words, under the form.
    await page.fill('#classifier-labels', '1');
    await page.click('#classifier-button');
    const alert = page.locator('#classifier-panel form [role=alert]');
    await alert.waitFor();
    const refused = await studio.server.gql(`{ featureClassifier(modelId: "${AUTOENCODER}", layers: ["enc_hidden1"], labelsPerClass: 1) { trainCount } }`);
    expect(refused.errors![0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(await alert.textContent()).toBe(`Error: ${refused.errors![0].message}`);
    expect(refused.errors![0].message).toBe('labelsPerClass: expected an integer in 2..100, got 1');
    // No layer ticked: said by the page before asking.
    for (const box of await page.$$('#classifier-layers input:checked')) await box.uncheck();
    await page.click('#classifier-button');
    await page.waitForFunction(() => /choose at least one layer/i.test(document.querySelector('#classifier-panel form [role=alert]')?.textContent ?? ''));
    expect(problems).toEqual([]);
  });

  it("removes the API's filters for 8 on the DCGAN's g_reshape: two different strips, as samples() gives them; no sideways scroll at 375 px", async () => {
    const { page, problems } = await openFeatures(375, 812, DCGAN);
    await page.selectOption('#filter-layer', 'g_reshape');
    await page.selectOption('#filter-concept', '8');
    await page.fill('#filter-count', '10');
    await page.fill('#filter-samples', '200');
    await page.fill('#filter-check', '100');
    await page.fill('#filter-show', '8');
    await page.click('#filter-button');
    await settle(page, '#filter-button', '#removal-after li');

    const r = (
      await api<{ conceptFilters: FiltersOut }>(
        `{ conceptFilters(modelId: "${DCGAN}", layer: "g_reshape", concept: "8", count: 10, samples: 200, checkSamples: 100) { filters { filter weight } check { seed before { conceptSampleProbability } after { conceptSampleProbability } } } }`,
      )
    ).conceptFilters;
    const filters = await page.$$eval('#concept-filters li', (items) =>
      items.map((li) => ({ filter: Number((li as HTMLElement).dataset.filter), weight: Number((li as HTMLElement).dataset.weight) })),
    );
    expect(filters).toEqual(r.filters);
    expect(Number(await page.getAttribute('#removal-before-col', 'data-concept-probability'))).toBe(r.check.before.conceptSampleProbability);
    expect(Number(await page.getAttribute('#removal-after-col', 'data-concept-probability'))).toBe(r.check.after.conceptSampleProbability);
    expect(await page.$$eval('#removal-table tr[data-measure=conceptSampleProbability] td', (tds) => tds.map((td) => td.textContent))).toEqual([
      r.check.before.conceptSampleProbability.toFixed(3),
      r.check.after.conceptSampleProbability.toFixed(3),
    ]);
    expect(r.check.after.conceptSampleProbability).toBeLessThan(r.check.before.conceptSampleProbability);

    // Both strips load the samples by their URLs; the PNGs are those samples() gives with and without the removal.
    const srcs = await page.$$eval('#removal-before img, #removal-after img', (imgs) => imgs.map((img) => img.getAttribute('src') ?? ''));
    for (const src of srcs) expect(src).toMatch(/^\/images\/[0-9a-f-]{36}\.png$/);
    expect(await naturalWidths(page, '#removal-before img, #removal-after img')).toEqual(Array(16).fill(28));
    const shown = async (id: string) => (await shownPngs(studio, page, `#${id} img`)).map((png) => png.toString('base64'));
    const before = await shown('removal-before');
    const after = await shown('removal-after');
    expect(before).toHaveLength(8);
    expect(after).toHaveLength(8);
    const samples = `query($m: ID, $s: Int, $r: FilterRemovalInput) { samples(modelId: $m, count: 8, seed: $s, removeFilters: $r) { image { dataUrl } } }`;
    const b64 = (dataUrl: string) => pngBytes(dataUrl).toString('base64');
    const apiBefore = (await api<{ samples: { image: { dataUrl: string } }[] }>(samples, { m: DCGAN, s: r.check.seed })).samples.map((s) =>
      b64(s.image.dataUrl),
    );
    const apiAfter = (
      await api<{ samples: { image: { dataUrl: string } }[] }>(samples, {
        m: DCGAN,
        s: r.check.seed,
        r: { layer: 'g_reshape', filters: r.filters.map((f) => f.filter) },
      })
    ).samples.map((s) => b64(s.image.dataUrl));
    expect(before).toEqual(apiBefore);
    expect(after).toEqual(apiAfter);
    expect(after.filter((png, i) => png !== before[i]).length).toBeGreaterThan(0);

    expect(await scrollsSideways(page)).toBe(false);
    // The other panels' results fit too.
    await page.selectOption('#feat-model', AUTOENCODER);
    await page.click('#probe-button');
    await settle(page, '#probe-button', '#probe-neurons li');
    await page.click('#probe-neurons > li:first-child .stimulus-button');
    await settle(page, '#probe-neurons > li:first-child .stimulus-button', '#stimulus-verdict');
    await page.click('#classifier-button');
    await settle(page, '#classifier-button', '#classifier-table');
    expect(await scrollsSideways(page)).toBe(false);
    expect(problems).toEqual([]);
  });
});
