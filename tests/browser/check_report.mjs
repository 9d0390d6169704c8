// check_report.mjs -- opens a ketasim report.html in headless Chromium (Debian's
// /usr/bin/chromium driven by playwright-core) and checks that it renders: every figure's SVG
// is non-empty with a non-zero bounding box, every plotted line has a drawn extent, no
// console errors or page errors, no network request, the disclaimer is present; then saves a
// full-page screenshot.
// usage: node check_report.mjs REPORT.html SCREENSHOT.png MIN_FIGURES
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const [reportArg, shotArg, minArg] = process.argv.slice(2);
if (!reportArg || !shotArg) {
  console.error('usage: node check_report.mjs REPORT.html SCREENSHOT.png [MIN_FIGURES]');
  process.exit(2);
}
const minFigures = Number(minArg || 1);
const report = path.resolve(reportArg);
let passed = 0;
let failed = 0;
function check(ok, what) {
  if (ok) {
    passed++;
  } else {
    failed++;
    console.error(`FAIL: ${what}`);
  }
}

const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ketasim-chromium-'));
const consoleErrors = [];
const requests = [];
let context;
try {
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1000, height: 900 },
  });
  // The report must not need the network: any non-file request is refused and recorded.
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('file:')) return route.continue();
    requests.push(url);
    return route.abort();
  });
  const page = context.pages()[0] || (await context.newPage());
  page.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(msg.text());
  });
  page.on('pageerror', (err) => consoleErrors.push(String(err)));
  await page.goto('file://' + report, { waitUntil: 'load' });

  const info = await page.evaluate(() => {
    const figs = [...document.querySelectorAll('svg.ks-figure')];
    return {
      scripts: document.querySelectorAll('script').length,
      disclaimer: (document.getElementById('disclaimer') || {}).textContent || '',
      footer: (document.querySelector('footer') || {}).textContent || '',
      figures: figs.map((svg) => {
        const r = svg.getBoundingClientRect();
        const series = [...svg.querySelectorAll('path.series')].map((p) => {
          const b = p.getBBox();
          return { label: p.textContent, w: b.width, h: b.height };
        });
        return {
          id: svg.id,
          width: r.width,
          height: r.height,
          children: svg.childElementCount,
          series,
          legend: svg.querySelectorAll('.legend-entry').length,
          hasNaN: /NaN|Infinity/.test(svg.outerHTML),
        };
      }),
    };
  });
  check(info.figures.length >= minFigures,
    `at least ${minFigures} figures (found ${info.figures.length})`);
  for (const f of info.figures) {
    check(f.width > 0 && f.height > 0, `${f.id}: non-zero bounding box (${f.width}x${f.height})`);
    check(f.children > 3, `${f.id}: SVG not empty (${f.children} children)`);
    check(f.series.length > 0, `${f.id}: has plotted series`);
    for (const s of f.series)
      check(s.w > 0 || s.h > 0, `${f.id}: series '${s.label}' has a drawn extent`);
    check(f.legend >= f.series.length, `${f.id}: a legend entry per series`);
    check(!f.hasNaN, `${f.id}: no NaN or Infinity in the SVG`);
  }
  check(/not medical advice/i.test(info.disclaimer), 'disclaimer at the top');
  check(/not medical advice/i.test(info.footer), 'disclaimer in the footer');
  check(info.scripts === 0, `no scripts (found ${info.scripts})`);
  check(consoleErrors.length === 0, `no console errors (${consoleErrors.join(' | ')})`);
  check(requests.length === 0, `no network requests (${requests.join(' ')})`);
  fs.mkdirSync(path.dirname(path.resolve(shotArg)), { recursive: true });
  await page.screenshot({ path: shotArg, fullPage: true });
  check(fs.statSync(shotArg).size > 10000, 'screenshot written');
  console.log(`figures: ${info.figures.map((f) => `${f.id} (${f.series.length} lines)`).join(', ')}`);
  console.log(`screenshot: ${path.resolve(shotArg)}`);
} catch (err) {
  check(false, `browser run: ${err && err.message ? err.message : err}`);
} finally {
  if (context) await context.close();
  fs.rmSync(userDataDir, { recursive: true, force: true });
}
console.log(`browser_report: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
