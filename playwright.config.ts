// End-to-end: Debian's Chromium against the real headless host (a 32-node UDP testnet on 127.0.0.1
// behind it). `npx playwright test` builds the renderer first (global-setup.ts). Browsers are never
// downloaded: Chromium comes from apt (/usr/bin/chromium), Electron only where its binary exists.
import { defineConfig } from '@playwright/test';

export const CHROMIUM_PATH = process.env.KADSCOPE_CHROMIUM ?? '/usr/bin/chromium';

export default defineConfig({
  testDir: 'test/e2e',
  testMatch: '**/*.spec.ts',
  outputDir: 'test-results/playwright',
  globalSetup: './test/e2e/global-setup.ts',
  // One host per worker and scenarios that build on each other's network: one worker, in order.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 15_000 },
  reporter: process.env.CI ? [['list'], ['html', { open: 'never', outputFolder: 'playwright-report' }]] : [['list']],
  use: {
    browserName: 'chromium',
    viewport: { width: 1440, height: 900 },
    launchOptions: {
      executablePath: CHROMIUM_PATH,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    },
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
});
