import type { Page } from 'playwright-core';

/** Values for the training page's start form; a key left out keeps what the form shows. */
export interface TrainingFormValues {
  /** '' for scratch, else a model version id to fine-tune. */
  from?: string;
  mode?: 'GAN' | 'KPLUSONE' | 'AUTOENCODER';
  architecture?: '' | 'DCGAN' | 'MLP';
  epochs?: string;
  batchSize?: string;
  learningRate?: string;
  seed?: string;
  limit?: string;
  name?: string;
  /** One-sided label smoothing's real target; '' turns the switch off. */
  labelSmoothing?: string;
}

/** Fills the start form as a person would (select options, typed numbers). */
export async function fillTrainingForm(page: Page, values: TrainingFormValues): Promise<void> {
  const form = page.locator('.train-form');
  if (values.from !== undefined) {
    // The versions come from an API call after mount: wait for the option first.
    if (values.from !== '') await form.locator(`select[name="fineTuneFrom"] option[value="${values.from}"]`).waitFor({ state: 'attached', timeout: 15_000 });
    await form.locator('select[name="fineTuneFrom"]').selectOption(values.from);
  }
  if (values.mode !== undefined) await form.locator('select[name="mode"]').selectOption(values.mode);
  if (values.architecture !== undefined) await form.locator('select[name="architecture"]').selectOption(values.architecture);
  for (const name of ['epochs', 'batchSize', 'learningRate', 'seed', 'limit', 'name'] as const) {
    const value = values[name];
    if (value !== undefined) await form.locator(`input[name="${name}"]`).fill(value);
  }
  if (values.labelSmoothing !== undefined) {
    await form.getByLabel('One-sided label smoothing').setChecked(values.labelSmoothing !== '');
    if (values.labelSmoothing !== '') await form.locator('input[name="lsTarget"]').fill(values.labelSmoothing);
  }
}

/** Opens Settings in the header, pastes the key and saves it (Enter), as a person would. */
export async function pasteApiKey(page: Page, key: string): Promise<void> {
  const settings = page.locator('#settings');
  if ((await settings.getAttribute('open')) === null) await settings.locator('summary').click();
  await page.locator('#api-key').fill(key);
  await page.locator('#api-key').press('Enter');
  await page.waitForFunction(() => document.getElementById('key-state')?.textContent === 'key set');
  // Saving closes the panel; close it here only if it stayed open.
  if ((await settings.getAttribute('open')) !== null) await settings.locator('summary').click();
}
