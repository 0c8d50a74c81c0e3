// Lookup traces in Chromium against the real headless host: run a lookup, save its trace
// (a download), reload, open the file (an upload), replay it to the end and see what the live lookup
// showed; drop files from another machine (ghost peers), get clear errors for bad ones, and compare
// two traces. Screenshots of the Traces views go to test-results/screenshots/.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator, Page } from '@playwright/test';
import type { Contact, LookupEvent, Trace } from '../../electron/host/contract';
import { TraceBuilder } from '../../electron/host/trace-build';
import { parseTrace, serializeTrace } from '../../electron/host/trace-format';
import { LOOKUP_END_TIMEOUT_MS, SCREENSHOT_DIR, expect, openView, test } from './fixtures';

/** A replay at 8x of a loopback lookup ends in well under this. */
const REPLAY_END_TIMEOUT_MS = 30_000;

/** The label -> value pairs of a summary grid (.k / .v cells). */
async function figures(grid: Locator): Promise<Record<string, string>> {
  const pairs = await grid.locator(':scope > div').evaluateAll((els) => els.map((e) => [e.querySelector('.k')?.textContent ?? '', e.querySelector('.v')?.textContent ?? '']));
  return Object.fromEntries(pairs);
}

async function ids(list: Locator): Promise<string[]> {
  // The Id component's span, as both the Lookups and the Traces lists render ids.
  return list.locator('.id[data-id]').evaluateAll((els) => els.map((e) => e.getAttribute('data-id') ?? ''));
}

/** Each of these test ids is laid out wholly inside the viewport, as the page stands (not scrolled to). */
async function expectInView(page: Page, testIds: string[]): Promise<void> {
  const vp = page.viewportSize()!;
  for (const id of testIds) {
    const box = await page.getByTestId(id).boundingBox();
    expect(box, id).not.toBeNull();
    expect(box!.y, `${id} top`).toBeGreaterThanOrEqual(0);
    expect(box!.y + box!.height, `${id} bottom`).toBeLessThanOrEqual(vp.height);
  }
}

/** The element's top is inside the viewport (it may run on below the fold). */
async function expectStartsInView(page: Page, testId: string): Promise<void> {
  const box = (await page.getByTestId(testId).boundingBox())!;
  expect(box.y, `${testId} top`).toBeGreaterThanOrEqual(0);
  expect(box.y + 60, `${testId} top`).toBeLessThanOrEqual(page.viewportSize()!.height);
}

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOT_DIR, `traces-${name}.png`) });
}

// ---- a trace recorded on another machine: ids we have never seen ----

const fakeId = (label: string): string => createHash('sha256').update(label).digest('hex');
const peerOf = (i: number): Contact => ({ id: fakeId(`peer-${i}`), host: '10.1.0.' + i, port: 6881 });

/**
 * A find-node lookup by a node we do not know: 3 seeds, answers pointing onward, one peer that times
 * out. `variant` swaps the order of two queries at steps 4 and 5, so two variants diverge at step 4.
 */
function foreignTrace(id: string, variant: 'a' | 'b'): Trace {
  const self = fakeId('someone else');
  const target = fakeId('their target');
  const p = Array.from({ length: 12 }, (_, i) => peerOf(i + 1));
  const at = (t: number) => ({ lookupId: id, at: 1_750_000_000_000 + t });
  const [x, y] = variant === 'a' ? [p[3], p[4]] : [p[4], p[3]];
  const events: LookupEvent[] = [
    { ...at(0), type: 'started', kind: 'find-node', target, self, k: 8, alpha: 3, rpcTimeoutMs: 2000, lookupTimeoutMs: 60_000, seeds: [p[0], p[1], p[2]] },
    { ...at(1), type: 'query', peer: p[0], hop: 1, bytes: 72 },
    { ...at(2), type: 'query', peer: p[1], hop: 1, bytes: 72 },
    { ...at(3), type: 'query', peer: p[2], hop: 1, bytes: 72 },
    { ...at(80), type: 'response', peer: p[0], hop: 1, rttMs: 79, bytes: 420, nodes: [p[3], p[4], p[5]] },
    { ...at(81), type: 'query', peer: x, hop: 2, bytes: 72 },
    { ...at(82), type: 'query', peer: y, hop: 2, bytes: 72 },
    { ...at(120), type: 'response', peer: p[1], hop: 1, rttMs: 118, bytes: 380, nodes: [p[5], p[6]] },
    { ...at(121), type: 'query', peer: p[5], hop: 2, bytes: 72 },
    { ...at(190), type: 'response', peer: p[3], hop: 2, rttMs: 109, bytes: 400, nodes: [p[7], p[8]] },
    { ...at(191), type: 'query', peer: p[7], hop: 3, bytes: 72 },
    { ...at(230), type: 'response', peer: p[4], hop: 2, rttMs: 148, bytes: 300, nodes: [p[8]] },
    { ...at(231), type: 'query', peer: p[8], hop: 3, bytes: 72 },
    { ...at(260), type: 'response', peer: p[5], hop: 2, rttMs: 139, bytes: 200, nodes: [] },
    { ...at(300), type: 'response', peer: p[7], hop: 3, rttMs: 109, bytes: 250, nodes: [] },
    { ...at(330), type: 'response', peer: p[8], hop: 3, rttMs: 99, bytes: 250, nodes: [] },
    { ...at(4003), type: 'timeout', peer: p[2], hop: 1, afterMs: 4000 },
    { ...at(4004), type: 'done', reason: 'converged', closest: [p[8], p[7], p[3], p[4], p[5], p[0], p[1]], hops: 3, messages: 8, durationMs: 4004, timeToClosestMs: 330 },
  ];
  const b = new TraceBuilder();
  for (const e of events) b.ingest(e);
  return b.trace!;
}

async function dropFiles(page: Page, files: Array<{ name: string; text: string }>): Promise<void> {
  const zone = page.getByTestId('traces-view');
  const dataTransfer = await page.evaluateHandle((list) => {
    const dt = new DataTransfer();
    for (const f of list) dt.items.add(new File([f.text], f.name, { type: 'application/json' }));
    return dt;
  }, files);
  await zone.dispatchEvent('dragenter', { dataTransfer });
  await zone.dispatchEvent('dragover', { dataTransfer });
  await zone.dispatchEvent('drop', { dataTransfer });
}

test('run a lookup, save its trace, reload, open the file, replay to the end: the same closest set and figures', async ({ app: page }, testInfo) => {
  test.setTimeout(120_000); // a lookup, a download, a reload, a replay at 8x and seven screenshots
  // The live lookup, as the Lookups view shows it.
  await openView(page, 'lookups');
  await page.getByTestId('lookup-random').click();
  const target = await page.getByTestId('lookup-target').inputValue();
  await page.getByTestId('lookup-start').click();
  const detail = page.getByTestId('lookup-detail');
  await expect(detail.getByTestId('lookup-outcome')).toHaveAttribute('data-outcome', /converged|exhausted/, { timeout: LOOKUP_END_TIMEOUT_MS });
  const outcome = await detail.getByTestId('lookup-outcome').getAttribute('data-outcome');
  const live = await figures(detail.getByTestId('lookup-summary'));
  const liveClosest = await ids(detail.getByTestId('closest-set'));
  expect(liveClosest.length).toBeGreaterThan(0);

  // "Replay…" opens it in Traces, selected; save it from there.
  await detail.getByTestId('replay-lookup').click();
  await expect(page.getByTestId('view-traces')).toBeVisible();
  const row = page.locator(`[data-testid="trace-row"][data-target="${target}"]`).first();
  await expect(row).toHaveAttribute('aria-selected', 'true');
  await expect(row).toHaveAttribute('data-origin', 'live');
  const id = (await row.getAttribute('data-id'))!;
  await expect(page.getByTestId('replay-origin')).toHaveText('recorded here');
  // kadscope's lookups are k wide: no width is shown.
  await expect(page.getByTestId('replay-params')).toHaveText(/^k 20 · alpha 3 · RPC timeout/);
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('save-trace').click()]);
  expect(download.suggestedFilename()).toMatch(new RegExp(`^find-node-${target.slice(0, 8)}-\\d{8}-\\d{6}\\.kadtrace\\.json$`));
  const file = testInfo.outputPath(download.suggestedFilename());
  await download.saveAs(file);
  const saved = parseTrace(readFileSync(file, 'utf8'));
  expect(saved.ok && saved.value).toMatchObject({ format: 'kadtrace', version: 3, protocol: 'kadscope', id, target, kind: 'find-node' });

  // A fresh page: open the file as a person would, through the file picker.
  await page.reload();
  await expect(page.getByTestId('connection')).toHaveAttribute('data-status', 'open');
  await expect(page.getByTestId('view-traces')).toBeVisible();
  await page.getByTestId('trace-file-input').setInputFiles(file);
  await expect(page.getByTestId('open-status')).toContainText(`Opened ${download.suggestedFilename()}`);
  await expect(page.locator(`[data-testid="trace-row"][data-id="${id}"]`)).toHaveAttribute('data-origin', 'imported');
  await expect(page.getByTestId('replay-origin')).toHaveText('opened from a file');
  const player = page.getByTestId('player');
  await expect(player).toHaveAttribute('data-t', '0');
  expect(await page.getByTestId('replay-row').count()).toBe(0);

  // Step into it: the waterfall grows and the graph highlights who was asked.
  for (let i = 0; i < 6; i++) await page.getByTestId('step-forward').click();
  await expect(page.getByTestId('replay-caption')).toContainText('event 7 of');
  expect(await page.getByTestId('replay-row').count()).toBeGreaterThan(0);
  await expect(page.locator('[data-testid="replay-graph"] canvas').first()).toBeVisible();
  // At 1440x900, with the list beside it, the replay's graph (and its legend) is in view without
  // scrolling, at a usable height, and the waterfall starts under it.
  await expectInView(page, ['replay-graph']);
  await expectStartsInView(page, 'replay-waterfall');
  expect((await page.getByTestId('replay-graph').boundingBox())!.height).toBeGreaterThanOrEqual(300);
  await shot(page, '01-replay-midway-light');

  // Play to the end at 8x.
  await page.getByTestId('speed').selectOption('8');
  await page.getByTestId('play').click();
  await expect(player).toHaveAttribute('data-at-end', 'true', { timeout: REPLAY_END_TIMEOUT_MS });
  await expect(player).toHaveAttribute('data-playing', 'false');
  await expect(page.getByTestId('replay-outcome')).toHaveAttribute('data-outcome', outcome!);
  const replayed = await figures(page.getByTestId('replay-figures'));
  expect(replayed['Time']).toBe(live['Duration']);
  expect(replayed['Hops']).toBe(live['Hops']);
  expect(replayed['Messages']).toBe(live['Messages']);
  expect(replayed['Answers']).toBe(live['Answers']);
  expect(replayed['Timeouts']).toBe(live['Timeouts']);
  expect(replayed['Errors']).toBe(live['Errors']);
  expect(replayed['Closest set at']).toBe(live['Closest set at']);
  expect(replayed['In flight']).toBe('0');
  await expect(page.getByTestId('replay-closest')).toHaveAttribute('data-final', 'true');
  expect(await ids(page.getByTestId('replay-closest'))).toEqual(liveClosest);
  // One waterfall row per RPC, each ended by an answer, a timeout or an error (Messages also
  // counts retries, so it can be larger when peers went quiet).
  const rowCount = Number(live['Answers']) + Number(live['Timeouts']) + Number(live['Errors']);
  expect(await page.getByTestId('replay-row').count()).toBe(rowCount);
  // The whole waterfall, no box of its own to scroll: every row is laid out at its full height.
  expect(await page.locator('[data-testid="replay-waterfall"] .wf-body').evaluate((e) => e.scrollHeight <= e.clientHeight)).toBe(true);
  await shot(page, '02-replay-end-light');
  // The last row is reached by scrolling the page.
  await page.getByTestId('replay-row').last().scrollIntoViewIfNeeded();
  await shot(page, '02a-replay-end-scrolled-light');
  // With the list hidden the replay has the width for its waterfall and graph side by side; the
  // graph stays in view while the page scrolls down the waterfall.
  await page.getByTestId('toggle-list').click();
  await expect(page.getByTestId('trace-list')).toHaveCount(0);
  await page.getByTestId('player').scrollIntoViewIfNeeded();
  await expectInView(page, ['replay-graph']);
  await expectStartsInView(page, 'replay-waterfall');
  const wfBox = (await page.getByTestId('replay-waterfall').boundingBox())!;
  const graphBox = (await page.getByTestId('replay-graph').boundingBox())!;
  expect(graphBox.x).toBeGreaterThanOrEqual(wfBox.x + wfBox.width - 1);
  await shot(page, '02b-replay-end-wide-light');
  await page.getByTestId('replay-row').last().scrollIntoViewIfNeeded();
  await expectInView(page, ['replay-graph']);
  await shot(page, '02c-replay-end-wide-scrolled-light');
  await page.getByTestId('player').scrollIntoViewIfNeeded();
  await page.getByTestId('toggle-list').click();
  await expect(page.getByTestId('trace-list')).toBeVisible();
  await page.emulateMedia({ colorScheme: 'dark' });
  await shot(page, '03-replay-end-dark');
  await page.emulateMedia({ colorScheme: 'light' });
});

test('traces from another machine: dropped files open, every peer it met is drawn, bad files say what is wrong', async ({ app: page }) => {
  await openView(page, 'traces');
  const a = foreignTrace('remote-a', 'a');
  await dropFiles(page, [{ name: 'remote-a.kadtrace.json', text: serializeTrace(a) }]);
  await expect(page.getByTestId('open-status')).toContainText('Opened remote-a.kadtrace.json');
  const replay = page.getByTestId('replay');
  await expect(replay).toContainText('(another node)');
  await page.getByTestId('to-end').click();
  // All 9 peers it met are drawn from the trace (our table plays no part in a replay).
  await expect(page.getByTestId('replay-graph')).toHaveAttribute('data-met', '9');
  await expect(page.getByTestId('replay-outcome')).toHaveAttribute('data-outcome', 'converged');
  expect(await ids(page.getByTestId('replay-closest'))).toEqual(a.summary.closest.map((c) => c.id));
  const rows = page.getByTestId('replay-row');
  await expect(rows).toHaveCount(8);
  await expect(page.locator('[data-testid="replay-row"][data-outcome="timeout"]')).toHaveCount(1);
  // Half-way through its 4 s, in real time: the slow peer is still outstanding.
  await page.getByTestId('scrubber').focus();
  await page.keyboard.press('Home');
  for (let i = 0; i < 9; i++) await page.keyboard.press('ArrowRight');
  await expect(page.getByTestId('fig-in-flight')).not.toHaveAttribute('data-value', '0');
  await shot(page, '04-replay-foreign-light');

  // Corrupt, newer and foreign files: nothing is added, and the message names the problem.
  const corrupt = JSON.parse(serializeTrace(a)) as { events: Array<{ peer?: { port: unknown } }> };
  corrupt.events[2].peer!.port = 'x';
  await dropFiles(page, [
    { name: 'corrupt.kadtrace.json', text: JSON.stringify(corrupt) },
    { name: 'newer.kadtrace.json', text: JSON.stringify({ ...a, version: 4 }) },
    { name: 'package.json', text: '{"name":"not a trace"}' },
  ]);
  const status = page.getByTestId('open-status');
  await expect(status).toContainText('Could not open corrupt.kadtrace.json: INVALID_ARGUMENT invalid trace: events.2.peer.port: event 3 (a "query" event), field peer › port: should be a number, but it is the text "x"');
  await expect(status).toContainText('Could not open newer.kadtrace.json: INVALID_ARGUMENT this trace was written by a newer kadscope (format version 4); this one reads version 3');
  await expect(status).toContainText('Could not open package.json: INVALID_ARGUMENT not a trace file: format is undefined, expected "kadtrace"');
  await shot(page, '05-open-errors-light');

  // The drop target says what it takes while a file is dragged over it.
  const dt = await page.evaluateHandle(() => {
    const d = new DataTransfer();
    d.items.add(new File(['{}'], 'x.kadtrace.json'));
    return d;
  });
  await page.getByTestId('traces-view').dispatchEvent('dragenter', { dataTransfer: dt });
  await expect(page.getByText('Drop .kadtrace.json files to open them')).toBeVisible();
  await shot(page, '06-drop-overlay-light');
  await page.getByTestId('traces-view').dispatchEvent('drop', { dataTransfer: dt });
  await expect(page.getByText('Drop .kadtrace.json files to open them')).toHaveCount(0);
});

test('compare two traces side by side: figures and the step where their paths diverged', async ({ app: page }, testInfo) => {
  await openView(page, 'traces');
  const a = foreignTrace('cmp-a', 'a');
  const b = foreignTrace('cmp-b', 'b');
  // B is the same lookup but for one swap; make it slower too, by a later closest set.
  b.summary.timeToClosestMs = 900;
  const files = [
    { name: 'a.kadtrace.json', text: serializeTrace(a) },
    { name: 'b.kadtrace.json', text: serializeTrace(b) },
  ];
  const paths = files.map((f) => {
    const p = testInfo.outputPath(f.name);
    writeFileSync(p, f.text);
    return p;
  });
  await page.getByTestId('trace-file-input').setInputFiles(paths);
  await expect(page.getByTestId('open-status')).toContainText('Opened 2 files');
  await page.locator('[data-testid="trace-row"][data-id="cmp-a"]').click();
  await page.getByRole('button', { name: 'Compare', exact: true }).click();
  await page.getByTestId('compare-with').selectOption('cmp-b');
  const div = page.getByTestId('divergence');
  // Seeds (steps 1-3) alike; then A asked peer 4 before peer 5 and B the other way round.
  await expect(div).toHaveAttribute('data-step', '4');
  await expect(div).toContainText('The paths diverged at step 4 after 3 steps in common: A asked');
  await expect(page.getByTestId('cmp-timeToClosestMs')).toContainText('330 ms');
  await expect(page.getByTestId('cmp-timeToClosestMs')).toContainText('900 ms');
  await expect(page.getByTestId('cmp-timeToClosestMs')).toContainText('+570 ms');
  await expect(page.getByTestId('cmp-hops')).toContainText('same');
  await expect(page.locator('[data-testid="compare-step"][data-same="true"]')).toHaveCount(6);
  await shot(page, '07-compare-light');
  await page.emulateMedia({ colorScheme: 'dark' });
  await shot(page, '08-compare-dark');
  await page.emulateMedia({ colorScheme: 'light' });

  // A trace against itself: the same path.
  await page.locator('[data-testid="trace-row"][data-id="cmp-b"]').click();
  await page.getByTestId('compare-with').selectOption('cmp-a');
  await expect(div).toHaveAttribute('data-step', '4');
});

test('a replay after churn shows the lookup as it was: no red from today, rings and the route drawn', async ({ app: page }) => {
  test.setTimeout(150_000); // a lookup, stopping nodes, a replay: slow on a loaded machine
  // A lookup on the whole testnet, recorded with no timeouts.
  await openView(page, 'lookups');
  await page.getByTestId('lookup-random').click();
  await page.getByTestId('lookup-start').click();
  const detail = page.getByTestId('lookup-detail');
  await expect(detail.getByTestId('lookup-outcome')).toHaveAttribute('data-outcome', /converged|exhausted/, { timeout: LOOKUP_END_TIMEOUT_MS });
  // The bucket fill (both themes): a full bucket's count readable on its bar.
  await openView(page, 'overview');
  await shot(page, '10-overview-buckets-light');
  await page.emulateMedia({ colorScheme: 'dark' });
  await shot(page, '11-overview-buckets-dark');
  await page.emulateMedia({ colorScheme: 'light' });
  // Then 8 nodes stop and are noticed.
  await openView(page, 'testnet');
  await page.getByTestId('testnet-kill-count').fill('8');
  await page.getByTestId('testnet-kill').click();
  await page.getByTestId('testnet-probe').click();
  // The replay of the lookup recorded before: drawn from the trace, no health state of today.
  await openView(page, 'lookups');
  await page.getByTestId('recent-lookup').filter({ hasText: 'node' }).last().click();
  await page.getByTestId('replay-lookup').click();
  await expect(page.getByTestId('replay')).toBeVisible();
  await page.getByTestId('to-end').click();
  await expect(page.getByTestId('fig-timeouts')).toHaveAttribute('data-value', '0');
  await expect(page.getByTestId('replay-graph')).toHaveAttribute('data-met', /[1-9]/);
  await shot(page, '12-replay-after-churn-light');
  // The whole waterfall, slowest first.
  await page.getByRole('button', { name: 'Slowest first' }).click();
  await shot(page, '13-replay-slowest-first-light');
});
