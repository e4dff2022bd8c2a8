import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { type Browser, type Page, chromium } from 'playwright-core';
import request from 'supertest';
import type { App } from 'supertest/types';
import { GLOBEX_KEY, UMBRELLA_KEY, mlServiceUrl, startAiService } from '@test/support/ai-service';

/**
 * The browser the page is tried in: Debian's Chromium, which .ci/run installs. No skip when it is
 * missing: the page would then go untested, so the suite fails and says how to install it.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const TRAINING_DEADLINE_MS = 240_000;

/**
 * Issue 16's workbench page in a real headless Chromium against the real stack: the API key goes
 * into sessionStorage, and seed 000's six queries, typed word for word, act: the churn model trains
 * with the job's live progress in the page, a sweep starts from it, the feature-importance chart
 * shows inline, a deploy waits for the Confirm button and only that button carries it out, the
 * deployed model's accuracy says where it comes from, the profile lists its alerts; another
 * tenant's key sees none of the conversation.
 */
describe('workbench page (GET /workbench) in headless Chromium on the real stack', () => {
  let app: INestApplication<App>;
  let browser: Browser;
  let page: Page;
  let baseUrl = '';
  const deployments: string[] = [];

  function api(method: 'get' | 'delete', url: string, apiKey = UMBRELLA_KEY): request.Test {
    return request(app.getHttpServer())[method](url).set('X-API-Key', apiKey);
  }

  /** Types a message into the page, sends it, and answers the assistant's entry once its answer (or error) arrived. */
  async function say(message: string): Promise<ReturnType<Page['locator']>> {
    const before = await page.locator('#conversation li.assistant').count();
    await page.fill('#message', message);
    await page.click('#send');
    return answered(before);
  }

  async function answered(before: number): Promise<ReturnType<Page['locator']>> {
    const entry = page.locator('#conversation li.assistant').nth(before);
    await entry.and(page.locator('li:is([data-agent], .error)')).waitFor({ timeout: 60_000 });
    return entry;
  }

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`no Chromium at ${CHROMIUM}: install it (apt-get install -y chromium, as .ci/run does) or set CHROMIUM_PATH`);
    }
    app = await startAiService({ MODULE_ML_ENABLED: 'true', ML_SERVICE_URL: mlServiceUrl() });
    await app.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${((app.getHttpServer() as unknown as Server).address() as AddressInfo).port}`;
    // --no-sandbox: CI and this machine run as root, where Chromium's sandbox refuses to start.
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage();
  });

  afterAll(async () => {
    for (const modelId of deployments) await api('delete', `/api/v1/ml/serving/deployments/${modelId}`);
    await browser?.close();
    await app?.close();
  });

  it('serves the page, its script and style with a strict content security policy, nothing else', async () => {
    const html = await request(app.getHttpServer()).get('/workbench').expect(200);
    expect(html.headers['content-type']).toMatch(/^text\/html/);
    expect(html.headers['content-security-policy']).toContain("script-src 'self'");
    expect(html.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(html.text).toContain('<script src="/workbench/workbench.js"');
    await request(app.getHttpServer()).get('/workbench/workbench.js').expect(200).expect('Content-Type', /^text\/javascript/);
    await request(app.getHttpServer()).get('/workbench/workbench.css').expect(200).expect('Content-Type', /^text\/css/);
    await request(app.getHttpServer()).get('/workbench/constructor').expect(404);
    await request(app.getHttpServer()).get('/workbench/workbench.html').expect(404);
  });

  it('asks for an API key first and keeps it in sessionStorage only', async () => {
    await page.goto(`${baseUrl}/workbench`);
    expect(await page.isDisabled('#message')).toBe(true);
    await page.fill('#api-key', UMBRELLA_KEY);
    await page.click('#key-save');
    expect(await page.isEnabled('#message')).toBe(true);
    // A string: the test compiles without the DOM's types; this runs in the page.
    expect(await page.evaluate('[sessionStorage.getItem("ml-workbench.api-key"), localStorage.length]')).toEqual([UMBRELLA_KEY, 0]);
  });

  it('"Train a model to predict customer churn" answers the training agent and follows the job live to its end', async () => {
    // Every text the progress line shows, in order, recorded in the page as it changes.
    await page.evaluate(`(() => {
      window.progressSeen = [];
      new MutationObserver(() => {
        for (const label of document.querySelectorAll('.progress span')) {
          if (window.progressSeen.at(-1) !== label.textContent) window.progressSeen.push(label.textContent);
        }
      }).observe(document.getElementById('conversation'), { subtree: true, childList: true, characterData: true });
    })()`);
    const entry = await say('Train a model to predict customer churn');
    expect(await entry.getAttribute('data-agent')).toBe('training');
    await entry.locator('.steps li[data-tool="TrainingController_submitTrainingJob"][data-status="done"]').waitFor();
    expect(await entry.locator('.reply').textContent()).toMatch(/train-[0-9a-f]{12}: xgboost classification of churned on ml_features\.customer_churn/);
    const progress = entry.locator('.progress');
    const jobId = await progress.getAttribute('data-job-id');
    expect(jobId).toMatch(/^train-[0-9a-f]{12}$/);
    // The job's own events drive the bar: it ends completed, and the REST API agrees.
    await entry.locator('.progress[data-status="completed"]').waitFor({ timeout: TRAINING_DEADLINE_MS });
    expect(await progress.locator('progress').evaluate((bar: { value: number }) => bar.value)).toBe(1);
    expect(await progress.textContent()).toContain(`${jobId}: completed`);
    const seen = await page.evaluate<string[]>('window.progressSeen');
    expect(seen.some((text) => new RegExp(`^${jobId}: running \\d+ / \\d+$`).test(text))).toBe(true);
    expect(seen.at(-1)).toBe(`${jobId}: completed`);
    const job = await api('get', `/api/v1/ml/train/${jobId}`).expect(200);
    expect(job.body.status).toBe('completed');
  });

  it('"Tune the learning rate for my churn model" launches a sweep from that job, its progress live in the page', async () => {
    const entry = await say('Tune the learning rate for my churn model');
    expect(await entry.getAttribute('data-agent')).toBe('tuning');
    await entry.locator('.steps li[data-tool="TuningController_submitTuningSweepFromBase"][data-status="done"]').waitFor();
    const progress = entry.locator('.progress');
    const sweepId = (await progress.getAttribute('data-job-id')) ?? '';
    expect(sweepId).toMatch(/^sweep-[0-9a-f]{12}$/);
    expect(await entry.locator('.reply').textContent()).toContain(`Launched sweep ${sweepId}`);
    // The sweep itself is tuning's e2e; here it only has to start. Stop it to free the CPUs.
    await api('delete', `/api/v1/ml/tuning/${sweepId}`);
    await entry.locator('.progress[data-status="cancelled"]').waitFor({ timeout: 60_000 });
  });

  it('"What features are most important for churn?" shows the feature-importance chart inline', async () => {
    const entry = await say('What features are most important for churn?');
    expect(await entry.getAttribute('data-agent')).toBe('analysis');
    const image = entry.locator('figure.chart img');
    await image.waitFor();
    await expect(image.evaluate((img: { decode(): Promise<void>; naturalWidth: number }) => img.decode().then(() => img.naturalWidth))).resolves.toBeGreaterThan(100);
  });

  it('"Deploy the best churn model to production" waits for the Confirm button, which deploys it', async () => {
    const listed = async (): Promise<unknown[]> => (await api('get', '/api/v1/ml/serving/deployments').expect(200)).body.deployments as unknown[];
    const deployedBefore = (await listed()).length;
    const asked = await say('Deploy the best churn model to production');
    expect(await asked.getAttribute('data-agent')).toBe('serving');
    await asked.locator('.steps li[data-tool="ServingController_createDeployment"][data-status="needs_confirmation"]').waitFor();
    expect((await listed()).length).toBe(deployedBefore); // asking did nothing

    const before = await page.locator('#conversation li.assistant').count();
    await asked.locator('.confirm button.yes').click();
    expect(await asked.locator('.confirm button.yes').isDisabled()).toBe(true);
    const done = await answered(before);
    const deploy = done.locator('.steps li[data-tool="ServingController_createDeployment"]');
    expect(await deploy.getAttribute('data-status')).toBe('done');
    const modelId = /"model_id": "([^"]+)"/.exec((await deploy.locator('pre').nth(1).textContent()) ?? '')?.[1] ?? '';
    deployments.push(modelId);
    expect(await done.locator('.reply').textContent()).toContain(modelId);
    expect((await listed()).length).toBe(deployedBefore + 1);
    await api('get', `/api/v1/ml/serving/deployments/${modelId}`).expect(200);
    // The answer's link to the deployment: fetched with the key, its JSON shown in the page.
    await done.locator('.links button', { hasText: 'Deployment' }).click();
    await expect(done.locator('.links details pre').textContent()).resolves.toContain(`"model_id": "${modelId}"`);
  });

  it('"How accurate is my deployed model?" says there is no feedback yet and gives the deployed version\'s test metrics', async () => {
    const entry = await say('How accurate is my deployed model?');
    expect(await entry.getAttribute('data-agent')).toBe('monitoring');
    expect(await entry.locator('.reply').textContent()).toMatch(new RegExp(`No feedback has been recorded for ${deployments[0]} yet, so these are the test-split metrics .*accuracy 0\\.\\d{3}`));
  });

  it('"Profile the customer dataset" profiles the churn table with its alerts, the report one click away', async () => {
    const entry = await say('Profile the customer dataset');
    expect(await entry.getAttribute('data-agent')).toBe('eda');
    expect(await entry.locator('.reply').textContent()).toMatch(/^Profiled ml_features\.customer_churn: \d+ alerts?/);
    await expect(entry.locator('.links button', { hasText: 'Profile report (HTML)' }).count()).resolves.toBe(1);
  });

  it("another tenant's key sees none of the conversation, and a wrong key is named in the page", async () => {
    await page.click('#key-forget');
    expect(await page.isDisabled('#message')).toBe(true);
    await page.fill('#api-key', GLOBEX_KEY);
    await page.click('#key-save');
    const entry = await say('How accurate is my deployed model?');
    expect(await entry.locator('.steps li[data-status="done"]').count()).toBe(0);
    expect(await entry.getAttribute('class')).toContain('error');
    expect(await entry.locator('.reply').textContent()).toMatch(/^404: [\s\S]*conversation_id: no conversation conv-/);

    await page.click('#key-forget');
    await page.fill('#api-key', 'not-a-key');
    await page.click('#key-save');
    await page.click('#new-conversation');
    const refused = await say('Profile the customer dataset');
    expect(await refused.locator('.reply').textContent()).toMatch(/^401: Missing or unknown API key/);
  });
});
