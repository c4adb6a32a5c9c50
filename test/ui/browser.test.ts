import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { FalcoAlert } from '../../src/alert/alert.ts';
import { loadConfig } from '../../src/config/load.ts';
import { createRouter, type Router } from '../../src/router/router.ts';
import { hashPassword } from '../../src/ui/auth/password.ts';
import { openSqliteStore } from '../../src/ui/store/sqlite-store.ts';
import { falcoAlert, postAlert } from '../support/alerts.ts';
import { seedAlerts } from '../support/seed-alerts.ts';

/**
 * The web UI in a real browser: Debian's chromium (scripts/setup.sh --test) driven by playwright-core,
 * against a router whose store holds 10,000 seeded alerts.
 */
/** What the page-side callbacks read (this file is type-checked without the DOM library). */
interface BrowserGlobals { document: { documentElement: { dataset: Record<string, string>; scrollWidth: number } }; innerWidth: number }

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(process.cwd(), '.tmp', 'screenshots');
const DAY = 86_400_000;

async function startWith(yaml: string, seed: FalcoAlert[], uiKeys = ''): Promise<{ router: Router; url: string; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'peregrine-ui-browser-'));
  const dbfile = join(dir, 'ui.sqlite');
  const store = openSqliteStore({ file: dbfile, retentionMs: 0, maxBytes: 0 });
  for (let i = 0; i < seed.length; i += 1000) store.insert(seed.slice(i, i + 1000));
  store.close();
  const config = loadConfig({ env: {}, yamlText: `listenaddress: 127.0.0.1\nlistenport: 0\nui:\n  dbfile: ${dbfile}\n  retention: "0"\n${uiKeys}${yaml}` });
  const router = await createRouter(config);
  const { port } = await router.listen();
  return { router, url: `http://127.0.0.1:${port}`, dir };
}

function countBy<T>(xs: T[], key: (x: T) => string): Map<string, number> {
  const m = new Map<string, number>();
  for (const x of xs) m.set(key(x), (m.get(key(x)) ?? 0) + 1);
  return m;
}

async function totalShown(page: Page): Promise<number> {
  const text = await page.getByTestId('total-events').textContent({ timeout: 10_000 });
  return Number((text ?? '').replace(/[^0-9]/g, ''));
}

describe('web UI in chromium', { timeout: 180_000 }, () => {
  const now = Date.now();
  const seed = seedAlerts(10_000, now - 6 * DAY, now - 60_000, 11);
  let browser: Browser;
  let s: { router: Router; url: string; dir: string };
  let page: Page;

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    s = await startWith('', seed);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 }, colorScheme: 'light' });
  });
  after(async () => {
    await browser?.close();
    await s?.router.close({ drainMs: 0 });
    if (s) rmSync(s.dir, { recursive: true, force: true });
  });

  test('the dashboard shows the counts of the 10,000 seeded alerts', async () => {
    await page.goto(`${s.url}/ui/?range=7d`);
    await page.getByTestId('total').waitFor();
    assert.equal(await page.getByTestId('total').locator('.n').textContent(), '10,000');
    for (const [priority, n] of countBy(seed, (a) => a.priority)) {
      assert.equal(await page.getByTestId(`tile-${priority}`).getAttribute('data-count'), String(n), priority);
    }
    const topRule = [...countBy(seed, (a) => a.rule)].sort((a, b) => b[1] - a[1])[0]!;
    const first = page.getByTestId('top-rules').locator('li').first();
    assert.equal(await first.locator('.label').textContent(), topRule[0]);
    assert.equal(await first.getByTestId('count').textContent(), topRule[1].toLocaleString('en-US'));
    await page.getByTestId('timeline').locator('canvas').waitFor();
    assert.ok(await page.getByTestId('loopback-note').isVisible(), 'the page says the UI answers on loopback only');
    await page.screenshot({ path: join(SHOTS, 'ui-dashboard.png'), fullPage: true });
  });

  test('events: filter by priority and by rule; the URL keeps the filters', async () => {
    await page.goto(`${s.url}/ui/events?range=7d`);
    await assertTotal(page, 10_000);
    await page.getByTestId('prio-warning').click();
    await page.waitForURL(/priority=warning/);
    const warnings = seed.filter((a) => a.priority === 'warning');
    await assertTotal(page, warnings.length);
    for (const cell of await page.getByTestId('event-row').locator('.badge').allTextContents()) assert.equal(cell, 'warning');
    const rule = 'Write below etc';
    await page.goto(`${s.url}/ui/events?range=7d&priority=warning&rule=${encodeURIComponent(rule)}`);
    await assertTotal(page, warnings.filter((a) => a.rule === rule).length);
    const rows = page.getByTestId('event-row');
    assert.equal(await rows.count(), Math.min(50, warnings.filter((a) => a.rule === rule).length));
    for (const text of await rows.locator('td:nth-child(3)').allTextContents()) assert.equal(text, rule);
  });

  test('events: search a word of the output', async () => {
    await page.goto(`${s.url}/ui/events?range=7d`);
    await page.getByTestId('search').fill('python3');
    await page.getByTestId('search').press('Enter');
    await page.waitForURL(/q=python3/);
    const expected = seed.filter((a) => /\bpython3\b/.test(a.output)).length;
    await assertTotal(page, expected);
    for (const text of await page.getByTestId('open-alert').allTextContents()) assert.match(text, /python3/);
  });

  test('events: open an alert: every field, the JSON, an exception snippet', async () => {
    await page.goto(`${s.url}/ui/events?range=7d&priority=critical`);
    const row = page.getByTestId('event-row').first();
    const id = await row.getAttribute('data-id');
    await row.getByTestId('open-alert').click();
    await page.waitForURL(new RegExp(`/ui/alert/${id}$`));
    await page.getByTestId('alert-detail').waitFor();
    const shown = JSON.parse((await page.getByTestId('alert-json').textContent())!) as FalcoAlert;
    const original = seed.find((a) => a.uuid === shown.uuid)!;
    assert.equal(shown.output, original.output);
    assert.deepEqual(shown.output_fields, original.output_fields);
    const fieldNames = await page.getByTestId('fields').locator('th').allTextContents();
    for (const k of Object.keys(original.output_fields)) assert.ok(fieldNames.includes(k), k);
    const yaml = (await page.getByTestId('exception-yaml').textContent())!;
    assert.match(yaml, new RegExp(`- rule: ${original.rule}`));
    assert.match(yaml, /exceptions:\n\s+- name: /);
    assert.match(yaml, /override:\n\s+exceptions: append/);
  });

  test('a newly posted alert appears within 2 s without a reload', async () => {
    await page.goto(`${s.url}/ui/events?range=7d`);
    await page.getByTestId('event-row').first().waitFor();
    await page.evaluate(() => { (globalThis as unknown as { marker: number }).marker = 42; });
    const res = await postAlert(s.url, falcoAlert({ time: new Date().toISOString(), output: 'Live alert zanzibar arrived', priority: 'Critical' }));
    assert.equal(res.status, 200);
    const posted = Date.now();
    await page.getByTestId('event-row').filter({ hasText: 'zanzibar' }).waitFor({ timeout: 2000 });
    assert.ok(Date.now() - posted <= 2000);
    assert.equal(await page.evaluate(() => (globalThis as unknown as { marker?: number }).marker), 42, 'no reload happened');
    await page.screenshot({ path: join(SHOTS, 'ui-events.png'), fullPage: false });
  });

  test('export gives a CSV with exactly the filtered rows', async () => {
    await page.goto(`${s.url}/ui/events?range=7d&priority=error&hostname=node-3`);
    const expected = seed.filter((a) => a.priority === 'error' && a.hostname === 'node-3');
    await assertTotal(page, expected.length);
    const download = page.waitForEvent('download');
    await page.getByTestId('export-csv').click();
    const file = await (await download).path();
    const { readFileSync } = await import('node:fs');
    const lines = readFileSync(file, 'utf8').trimEnd().split('\r\n');
    assert.equal(lines[0], 'id,time,priority,rule,source,hostname,tags,output,output_fields,uuid');
    assert.equal(lines.length - 1, expected.length);
    const uuids = new Set(lines.slice(1).map((l) => l.slice(-36)));
    assert.deepEqual(uuids, new Set(expected.map((a) => a.uuid)));
  });

  test('phone width and the dark theme stay usable', async () => {
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, colorScheme: 'dark' });
    try {
      await phone.goto(`${s.url}/ui/?range=7d`);
      await phone.getByTestId('total').waitFor();
      assert.equal(await phone.evaluate(() => (globalThis as unknown as BrowserGlobals).document.documentElement.dataset.theme), 'dark');
      const overflow = await phone.evaluate(() => { const g = globalThis as unknown as BrowserGlobals; return g.document.documentElement.scrollWidth - g.innerWidth; });
      assert.ok(overflow <= 0, `page is ${overflow}px wider than the phone`);
      await phone.screenshot({ path: join(SHOTS, 'ui-dashboard-phone-dark.png'), fullPage: false });
    } finally {
      await phone.close();
    }
  });
});

describe('web UI auth', { timeout: 120_000 }, () => {
  const now = Date.now();
  let browser: Browser;
  let s: { router: Router; url: string; dir: string };
  before(async () => {
    s = await startWith('authtoken: tok-123\n', seedAlerts(50, now - DAY, now, 2), `  user: admin\n  passwordhash: "${hashPassword('correct horse')}"\n`);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });
  after(async () => {
    await browser?.close();
    await s?.router.close({ drainMs: 0 });
    if (s) rmSync(s.dir, { recursive: true, force: true });
  });

  test('without credentials the API refuses; a login or the token opens it', async () => {
    for (const path of ['/api/v1/alerts', '/api/v1/counts?by=rule', '/api/v1/histogram', '/api/v1/export', '/api/v1/stream', '/api/v1/alerts/1']) {
      assert.equal((await fetch(`${s.url}${path}`)).status, 401, path);
    }
    assert.equal((await fetch(`${s.url}/api/v1/alerts`, { headers: { authorization: 'Bearer wrong' } })).status, 401);
    assert.equal((await fetch(`${s.url}/api/v1/alerts`, { headers: { authorization: 'Bearer tok-123' } })).status, 200);
    // A cross-site login attempt is refused before the password is even looked at.
    const csrf = await fetch(`${s.url}/api/v1/login`, { method: 'POST', headers: { 'content-type': 'text/plain', origin: 'http://evil.example' }, body: '{"user":"admin","password":"correct horse"}' });
    assert.equal(csrf.status, 403);

    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${s.url}/ui/`);
    await page.getByTestId('login').waitFor();
    await page.locator('input[name=user]').fill('admin');
    await page.locator('input[name=password]').fill('wrong');
    await page.getByRole('button', { name: 'Log in', exact: true }).click();
    await page.getByTestId('login-error').waitFor();
    await page.locator('input[name=password]').fill('correct horse');
    await page.getByRole('button', { name: 'Log in', exact: true }).click();
    await page.getByTestId('total').waitFor();
    const cookie = (await page.context().cookies()).find((c) => c.name === 'peregrine_session')!;
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Strict');
    assert.equal(await page.getByTestId('loopback-note').count(), 0);
    await page.close();
  });
});

describe('web UI without any auth configured', () => {
  test('answers on loopback only', async () => {
    const external = Object.values(networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal);
    assert.ok(external, 'this test needs one non-loopback IPv4 address on the machine');
    const dir = mkdtempSync(join(tmpdir(), 'peregrine-ui-lo-'));
    const router = await createRouter(loadConfig({ env: {}, yamlText: `listenaddress: 0.0.0.0\nlistenport: 0\nui:\n  dbfile: ${join(dir, 'ui.sqlite')}\n` }));
    const { port } = await router.listen();
    try {
      assert.equal((await fetch(`http://127.0.0.1:${port}/api/v1/alerts`)).status, 200);
      const remote = await fetch(`http://${external.address}:${port}/api/v1/alerts`);
      assert.equal(remote.status, 403);
      assert.match(((await remote.json()) as { error: string }).error, /only on loopback/);
      assert.equal((await fetch(`http://${external.address}:${port}/ui/`)).status, 403);
      assert.equal((await fetch(`http://${external.address}:${port}/healthz`)).status, 200, 'the router itself still answers');
    } finally {
      await router.close({ drainMs: 0 });
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

async function assertTotal(page: Page, expected: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  let shown = -1;
  while (Date.now() < deadline) {
    shown = await totalShown(page).catch(() => -1);
    if (shown === expected) return;
    await page.waitForTimeout(50);
  }
  assert.equal(shown, expected);
}

// Screenshots for the README: refreshed in docs/ when asked.
after(() => {
  if (process.env.PEREGRINE_UPDATE_SCREENSHOTS !== '1') return;
  mkdirSync('docs', { recursive: true });
  for (const f of ['ui-dashboard.png', 'ui-events.png', 'ui-dashboard-phone-dark.png']) copyFileSync(join(SHOTS, f), join('docs', f));
});
