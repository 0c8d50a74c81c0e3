// Renders resources/icon.svg to the PNG sizes the window, the favicon and packaging need, with
// Chromium (no other SVG renderer is installed here), and copies the page's favicons into
// renderer/public. Run after editing icon.svg:
//   node resources/render-icons.mjs
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
const root = fileURLToPath(new URL('..', import.meta.url));
const svg = readFileSync(`${root}resources/icon.svg`, 'utf8');
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
const page = await browser.newPage();
mkdirSync(`${root}resources/icons`, { recursive: true });
const out = { 512: 'resources/icon.png' };
for (const s of [16, 32, 48, 64, 128, 256, 512]) out[s] ??= `resources/icons/${s}.png`;
for (const [size, path] of Object.entries(out)) {
  const n = Number(size);
  await page.setViewportSize({ width: n, height: n });
  await page.setContent(`<html><body style="margin:0;background:transparent">${svg.replace('<svg ', `<svg width="${n}" height="${n}" `)}</body></html>`);
  writeFileSync(`${root}${path}`, await page.locator('svg').screenshot({ omitBackground: true }));
}
await browser.close();
copyFileSync(`${root}resources/icon.svg`, `${root}renderer/public/favicon.svg`);
copyFileSync(`${root}resources/icons/32.png`, `${root}renderer/public/favicon-32.png`);
