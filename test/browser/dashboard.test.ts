// The dashboard end to end: a real `taskyard start`, driven through Debian's
// Chromium. Every step asserts what a user sees; the run also refreshes the
// screenshots in docs/img/ that the README shows.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { before, after, describe, test } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { PHONE, scrollsSideways, tabThrough, useBrowser, waitForText } from '../helpers/browser.js';
import { killAllCli, startCli } from '../helpers/cli-process.js';
import { getJson, postJson, waitForTerminal } from '../helpers/taskyard.js';

/** π's first 201 digits, as published (not computed by the code under test). */
const PI = '314159265358979323846264338327950288419716939937510582097494459230781640628620899862803482534211706798214808651328230664709384460955058223172535940812848111745028410270193852110555964462294895493038196';
const IMG = new URL('../../docs/img/', import.meta.url).pathname;

describe('dashboard, in Chromium, against `taskyard start`', () => {
  const browser = useBrowser();
  let url = '';
  before(async () => {
    ({ url } = await startCli(['--data-dir', 'memory://', '--no-recipes', '--tasks', 'test/fixtures/dashboard-tasks.ts']));
    // The tests run the server from source, but it serves the built dashboard.
    const home = await (await fetch(url)).text();
    assert.doesNotMatch(home, /dashboard is not built/i, 'dist/dashboard is missing: run `node scripts/build.mjs` first (`npm test` does)');
  });
  after(killAllCli);

  async function enqueue(task: string, input: unknown): Promise<string> {
    const { status, body } = await postJson(`${url}/v1/tasks/${task}/jobs`, { input });
    assert.equal(status, 202, JSON.stringify(body));
    return body.id;
  }

  async function finished(task: string, input: unknown): Promise<{ id: string; status: string }> {
    return waitForTerminal(url, await enqueue(task, input));
  }

  /** Opens a route (`#/…`) and waits for the element showing it is there. */
  async function open(page: Page, route: string, testId: string): Promise<void> {
    await page.goto(`${url}/${route}`);
    await page.getByTestId(testId).first().waitFor();
  }

  function jobIdIn(page: Page): string {
    const match = /#\/jobs\/([^/?]+)$/.exec(page.url());
    assert.ok(match, `a job page, not ${page.url()}`);
    return decodeURIComponent(match[1]!);
  }

  /** Matches a text holding between `min` and `max` digits, whatever separates them ("3.14…"). */
  const digitCount = (min: number, max: number): RegExp => new RegExp(`^\\D*(?:\\d\\D*){${min},${max}}$`);

  /** The error is right under (or over) its field, where the eye is. */
  async function assertBeside(field: Locator, error: Locator): Promise<void> {
    const [fieldBox, errorBox] = [await field.boundingBox(), await error.boundingBox()];
    assert.ok(fieldBox && errorBox, 'both are on screen');
    const gap = Math.min(Math.abs(errorBox.y - (fieldBox.y + fieldBox.height)), Math.abs(fieldBox.y - (errorBox.y + errorBox.height)));
    assert.ok(gap < 40, `the error sits by its field (field ${JSON.stringify(fieldBox)}, error ${JSON.stringify(errorBox)})`);
  }

  const digitsShown = (page: Page): Promise<string> =>
    page.getByTestId('job-digits').innerText().then((text) => text.replace(/\D/g, ''));

  test('run compute-pi from the Tasks form: the bar reaches 100 and the digits stream in', () =>
    browser.withPage(async (page) => {
      await open(page, '#/tasks', 'task-row');
      await page.locator('[data-testid="task-row"][data-task="compute-pi"]').getByRole('link').first().click();
      await page.waitForURL(/#\/tasks\/compute-pi$/);
      await page.getByTestId('field-digits').fill('200');
      await page.getByTestId('field-delayMs').fill('10');
      await page.screenshot({ path: `${IMG}dashboard-tasks.png` });
      await page.getByTestId('task-run').click();

      await page.waitForURL(/#\/jobs\/[^/?]+$/);
      const id = jobIdIn(page);
      // Mid-stream: part of the digits are there (so the job is still running); later, more.
      const digits = page.getByTestId('job-digits');
      await waitForText(digits, digitCount(3, 150));
      const early = await digitsShown(page);
      assert.equal(early, PI.slice(0, early.length), 'the digits streamed so far are π');
      await waitForText(digits, digitCount(early.length + 1, 200));

      const bar = page.getByTestId('job-progress');
      assert.equal(await bar.getAttribute('role'), 'progressbar');
      await page.locator('[data-testid="job-progress"][aria-valuenow="100"]').waitFor();
      await waitForText(page.getByTestId('job-status'), 'completed');
      assert.equal(await digitsShown(page), PI.slice(0, 200));
      await waitForText(page.getByTestId('job-result'), new RegExp(PI.slice(0, 200)));
      await page.screenshot({ path: `${IMG}dashboard-job.png` });

      const job = await getJson(`${url}/v1/jobs/${id}`);
      assert.equal(job.body.status, 'completed');
      assert.deepEqual(job.body.input, { digits: 200, delayMs: 10 });
    }));

  test('a value out of range shows its error next to the field, and no job is created', () =>
    browser.withPage(async (page) => {
      const jobsBefore = (await getJson(`${url}/v1/jobs?task=compute-pi&limit=100`)).body.jobs.length;
      await open(page, '#/tasks/compute-pi', 'task-form');
      const field = page.getByTestId('field-digits');
      await field.fill('6000');
      await page.getByTestId('task-run').click();

      const error = page.getByTestId('field-error-digits');
      await waitForText(error, /5000/);
      await assertBeside(field, error);
      assert.match(page.url(), /#\/tasks\/compute-pi$/, 'still on the form');
      assert.equal((await getJson(`${url}/v1/jobs?task=compute-pi&limit=100`)).body.jobs.length, jobsBefore);
    }));

  test("what only the server can judge: its 400's details show by their field, and no job is created", () =>
    browser.withPage(
      async (page) => {
        const jobsBefore = (await getJson(`${url}/v1/jobs?task=archivist&limit=100`)).body.jobs.length;
        await open(page, '#/tasks/archivist', 'task-form');
        // Well-formed JSON, so the browser lets it through; but an object, not the array of files.
        await page.getByTestId('field-files').fill('{"name": "a.txt"}');
        await page.getByTestId('task-run').click();
        await waitForText(page.getByTestId('field-error-files'), /array/i);
        await assertBeside(page.getByTestId('field-files'), page.getByTestId('field-error-files'));
        assert.match(page.url(), /#\/tasks\/archivist$/, 'still on the form');
        assert.equal((await getJson(`${url}/v1/jobs?task=archivist&limit=100`)).body.jobs.length, jobsBefore);
      },
      { expectedHttpErrors: ['400 /v1/tasks/archivist/jobs'] },
    ));

  test('cancel a running sleep job from its page', () =>
    browser.withPage(async (page) => {
      const id = await enqueue('sleep', { ms: 60_000, steps: 60 });
      await open(page, `#/jobs/${id}`, 'job-status');
      await waitForText(page.getByTestId('job-status'), 'active');
      await waitForText(page.getByTestId('job-progress-message'), /step \d+ of 60/);
      await page.getByTestId('job-cancel').click();
      await waitForText(page.getByTestId('job-status'), 'cancelled');
      assert.equal((await getJson(`${url}/v1/jobs/${id}`)).body.status, 'cancelled');
    }));

  test('find a finished job by text in its input and its status, then open it', () =>
    browser.withPage(async (page) => {
      const needle = `needle-${randomBytes(4).toString('hex')}`;
      const wanted = await finished('archivist', { files: [{ name: `${needle}.txt`, text: 'found me' }] });
      assert.equal(wanted.status, 'completed');
      await finished('archivist', { files: [{ name: 'haystack.txt', text: 'not this one' }] });

      await open(page, '#/jobs', 'job-row');
      await page.screenshot({ path: `${IMG}dashboard-jobs.png` });
      const rows = async (): Promise<Array<string | null>> =>
        Promise.all((await page.getByTestId('job-row').all()).map((row) => row.getAttribute('data-job-id')));

      // The text matches, the status does not: nothing.
      await page.getByTestId('search-q').fill(needle);
      await page.getByTestId('filter-status').selectOption('failed');
      await page.getByTestId('search-submit').click();
      await page.getByTestId('jobs-empty').waitFor();
      assert.deepEqual(await rows(), []);

      // Both match: exactly that job, also after a reload (the filters live in the URL).
      await page.getByTestId('filter-status').selectOption('completed');
      await page.getByTestId('search-q').press('Enter');
      // The list was empty, so the row that appears belongs to the new results.
      await page.locator(`[data-testid="job-row"][data-job-id="${wanted.id}"]`).waitFor();
      assert.deepEqual(await rows(), [wanted.id]);
      assert.match(page.url(), new RegExp(`q=${needle}`));
      await page.reload();
      await page.locator(`[data-testid="job-row"][data-job-id="${wanted.id}"]`).waitFor();
      assert.deepEqual(await rows(), [wanted.id]);

      await page.locator(`[data-testid="job-row"][data-job-id="${wanted.id}"]`).getByRole('link').first().click();
      await page.waitForURL(new RegExp(`#/jobs/${wanted.id}$`));
      await waitForText(page.getByTestId('job-status'), 'completed');
    }));

  test("download a job's artifacts from its page", () =>
    browser.withPage(async (page) => {
      const bytes = [0, 1, 2, 127, 128, 253, 254, 255];
      const job = await finished('archivist', { files: [{ name: 'notes.txt', text: 'written by the browser test' }, { name: 'raw.bin', bytes }] });
      assert.equal(job.status, 'completed');
      await open(page, `#/jobs/${job.id}`, 'job-artifacts');
      const links = page.getByTestId('job-artifact');
      await links.nth(1).waitFor();
      assert.equal(await links.count(), 2);

      for (const [name, expected] of [
        ['notes.txt', Buffer.from('written by the browser test')],
        ['raw.bin', Buffer.from(bytes)],
      ] as const) {
        const link = links.filter({ hasText: name });
        assert.notEqual(await link.getAttribute('download'), null, `${name} is a download link`);
        const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
        assert.equal(download.suggestedFilename(), name);
        assert.deepEqual(await readFile(await download.path()), expected);
      }
    }));

  test('retry a failed job: a new job, whose page links back to the one it retries', () =>
    browser.withPage(async (page) => {
      const failed = await finished('doomed', {});
      assert.equal(failed.status, 'failed');
      await open(page, `#/jobs/${failed.id}`, 'job-status');
      await waitForText(page.getByTestId('job-status'), 'failed');
      await waitForText(page.getByTestId('job-error'), /this input can never work/);

      await page.getByTestId('job-retry').click();
      await page.waitForURL((address) => /#\/jobs\/[^/?]+$/.test(address.hash) && !address.hash.endsWith(failed.id));
      const retryId = jobIdIn(page);
      await waitForText(page.getByTestId('job-status'), 'failed');
      assert.equal((await getJson(`${url}/v1/jobs/${retryId}`)).body.retryOf, failed.id);

      await page.locator(`a[href$="#/jobs/${failed.id}"]`).first().click();
      await page.waitForURL(new RegExp(`#/jobs/${failed.id}$`));
      await waitForText(page.getByTestId('job-error'), /this input can never work/);
    }));

  test('the old link /?job=<id> opens the job page', () =>
    browser.withPage(async (page) => {
      const job = await finished('compute-pi', { digits: 12 });
      await page.goto(`${url}/?job=${job.id}`);
      await page.waitForURL(new RegExp(`#/jobs/${job.id}$`));
      await waitForText(page.getByTestId('job-digits'), /3\.?14159265358/);
    }));

  test('Overview: pause a queue (badge; its jobs wait), resume it; counts, chart and the worker', () =>
    browser.withPage(async (page) => {
      await open(page, '#/', 'queue-row');
      const queue = page.locator('[data-testid="queue-row"][data-queue="default"]');
      const toggle = queue.getByTestId('queue-pause-toggle');
      await page.getByTestId('throughput-chart').waitFor();
      await page.getByTestId('worker-row').first().waitFor();

      await waitForText(toggle, 'Pause');
      await toggle.click();
      await queue.getByTestId('queue-paused').waitFor();
      await waitForText(toggle, 'Resume');
      assert.equal((await getJson(`${url}/v1/queues`)).body.queues.find((q: { name: string }) => q.name === 'default').paused, true);

      const waiting = await enqueue('compute-pi', { digits: 5 });
      await waitForText(queue.getByTestId('queue-waiting'), '1');
      await toggle.click();
      await queue.getByTestId('queue-paused').waitFor({ state: 'detached' });
      await waitForText(toggle, 'Pause');
      assert.equal((await waitForTerminal(url, waiting)).status, 'completed');

      // Settled: every finished count on the page is the API's.
      const counts = (await getJson(`${url}/v1/queues`)).body.queues.find((q: { name: string }) => q.name === 'default');
      for (const cell of ['waiting', 'active', 'completed', 'failed'] as const) {
        await waitForText(queue.getByTestId(`queue-${cell}`), String(counts[cell]));
      }
      assert.ok(counts.completed > 0);
      await page.screenshot({ path: `${IMG}dashboard-overview.png` });
    }));

  test('keyboard: Tab reaches the nav links and the Run button, with visible focus', () =>
    browser.withPage(async (page) => {
      await open(page, '#/tasks/compute-pi', 'task-form');
      const reached = await tabThrough(page, ['nav-overview', 'nav-jobs', 'nav-tasks', 'task-run']);
      assert.deepEqual(Object.fromEntries(reached), { 'nav-overview': true, 'nav-jobs': true, 'nav-tasks': true, 'task-run': true });
    }));

  test('at phone width (390×844) no page scrolls sideways', () =>
    browser.withPage(
      async (page) => {
        const job = await finished('compute-pi', { digits: 200 });
        for (const [route, testId] of [
          ['#/', 'queue-row'],
          ['#/jobs', 'job-row'],
          ['#/tasks', 'task-row'],
          ['#/tasks/compute-pi', 'task-form'],
          [`#/jobs/${job.id}`, 'job-digits'],
        ] as const) {
          await open(page, route, testId);
          assert.equal(await scrollsSideways(page), false, `${route} fits ${PHONE.width} px`);
        }
        await page.locator('[data-testid="job-progress"][aria-valuenow="100"]').waitFor();
        await page.screenshot({ path: `${IMG}dashboard-job-phone.png` });
      },
      { viewport: PHONE },
    ));
});
