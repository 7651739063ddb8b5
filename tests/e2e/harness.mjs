// The end-to-end harness: real Chromium with the built extension loaded, the demo app
// served on loopback, and helpers that act as a user would (mouse selection, clicks,
// keys) and look where a user or the browser would (highlights, the extension's store).
import { spawn } from 'node:child_process';
import http from 'node:http';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium } from 'playwright-core';

const DIST = process.env.INFLOW_DIST;
const DEMO_BIN = process.env.INFLOW_DEMO_BIN;
const CHROMIUM = process.env.INFLOW_CHROMIUM ?? '/usr/lib/chromium/chromium';
if (!DIST || !DEMO_BIN) throw new Error('run these tests through `cargo xtask test` (INFLOW_DIST and INFLOW_DEMO_BIN unset)');

/** Starts the demo app on `host` with a free port; resolves to { url, stop }. */
export async function startDemo(host = '127.0.0.1') {
  const child = spawn(DEMO_BIN, ['--listen', `${host}:0`], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((resolve, reject) => {
    let seen = '';
    child.stdout.on('data', (chunk) => {
      seen += chunk;
      const match = seen.match(/listening on (http:\/\/\S+)/);
      if (match) resolve(match[1]);
    });
    child.on('exit', (code) => reject(new Error(`demo app exited (${code}) before listening`)));
  });
  return { url, stop: () => child.kill() };
}

/** A copy of the built extension in a directory of its own (an unpacked extension's id
 *  comes from its path, so the copy keeps its id and its store across launches). */
export function copyOfDist() {
  const dir = mkdtempSync(join(tmpdir(), 'inflow-dist-'));
  cpSync(DIST, dir, { recursive: true });
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A browser profile that survives restarts of the browser, like a user's. */
export function newProfileDir() {
  const dir = mkdtempSync(join(tmpdir(), 'inflow-e2e-'));
  // Chromium may still be flushing the profile just after it closes: retry, and never let
  // clean-up hide a test's own failure.
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 }) };
}

/** Chromium's switches for every browser the tests and benchmarks start: quiet, no
 *  background traffic, nothing from a first run. */
export const BROWSER_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

/** Launches Chromium on `profileDir` with dist/ (or the extension in `dist`) loaded;
 *  resolves to { context, worker, extensionId, welcome }. A first launch on a profile
 *  installs Inflow, which opens its welcome page: that is checked here, then closed
 *  (`keepWelcome`: left open and returned as `welcome`). */
export async function launch(profileDir, { dist = DIST, keepWelcome = false } = {}) {
  const installed = join(profileDir, '.inflow-installed');
  const firstLaunch = !existsSync(installed);
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: [...BROWSER_ARGS, `--disable-extensions-except=${dist}`, `--load-extension=${dist}`],
  });
  const isWelcome = (page) => page.url().startsWith('chrome-extension://') && page.url().endsWith('/welcome.html');
  const welcomeShown = firstLaunch ? context.waitForEvent('page', { predicate: isWelcome, timeout: 15000 }).catch(() => null) : null;
  const worker = context.serviceWorkers()[0] ?? (await context.waitForEvent('serviceworker', { timeout: 10000 }));
  const extensionId = new URL(worker.url()).host;
  let welcome = null;
  if (firstLaunch) {
    welcome = context.pages().find(isWelcome) ?? (await welcomeShown);
    if (!welcome) throw new Error('installing Inflow did not open its welcome page');
    await welcome.locator('main[aria-busy="false"]').waitFor();
    writeFileSync(installed, '');
    if (!keepWelcome) {
      await welcome.close();
      welcome = null;
    }
  }
  return { context, worker, extensionId, welcome };
}

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core's violations on `page`, one line each: rule, impact, and where. */
export async function axeViolations(page) {
  await page.evaluate(AXE); // through the DevTools protocol: no page's CSP applies
  const found = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations));
  return found.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** Polls `probe` until it returns a value `accept` likes; fails with the last value seen. */
export async function eventually(probe, accept, { timeout = 5000, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    last = await probe();
    if (accept(last)) return last;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}; last seen: ${JSON.stringify(last)}`);
}

/** The texts Inflow highlights in the page (the highlight registry is shared with the page). */
export function highlightedTexts(page) {
  return page.evaluate(() => {
    const highlight = CSS.highlights.get('inflow-tip');
    return highlight ? [...highlight].map((range) => range.toString()) : [];
  });
}

/** What the active tab's content script says its screen shows (tip ids by kind), asked as
 *  the side panel asks it. */
export function screenTips(worker) {
  return worker.evaluate(async () => {
    const [tab] = await chrome.tabs.query({ active: true, lastFocusedWindow: true });
    return chrome.tabs.sendMessage(tab.id, { type: 'screenTips' });
  });
}

/** The middle of the first highlighted range whose text is `text`, in viewport pixels, as
 *  a user would aim at it. */
export async function highlightPoint(page, text) {
  const point = await page.evaluate((text) => {
    const range = [...(CSS.highlights.get('inflow-tip') ?? [])].find((r) => r.toString() === text);
    const box = range?.getClientRects()[0];
    return box ? { x: box.left + Math.min(box.width / 2, 40), y: box.top + box.height / 2 } : null;
  }, text);
  if (!point) throw new Error(`"${text}" is not highlighted`);
  return point;
}

/** Every tip in the extension's IndexedDB, read inside the extension's origin. */
export function storedTips(worker) {
  return worker.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open('inflow');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          if (!db.objectStoreNames.contains('tips')) {
            db.close();
            return resolve([]);
          }
          const request = db.transaction('tips').objectStore('tips').getAll();
          request.onsuccess = () => {
            db.close(); // an open connection would block the extension's upgrades
            resolve(request.result);
          };
          request.onerror = () => reject(request.error);
        };
      }),
  );
}

/** Selects `text` inside the first element matching `selector` by dragging the mouse over
 *  it. `host >>> inner` reaches into an open shadow root; `frame` names an iframe to select in. */
export async function dragSelect(page, selector, text, { frame } = {}) {
  const scope = frame ? page.frameLocator(frame) : page;
  await scope.locator(selector.replace(' >>> ', ' ')).getByText(text).first().waitFor(); // content may arrive after load
  const target = frame ? await (await page.locator(frame).elementHandle()).contentFrame() : page.mainFrame();
  const box = await target.evaluate(
    ({ selector, text }) => {
      const [host, inner] = selector.split(' >>> ');
      const root = inner ? document.querySelector(host).shadowRoot.querySelector(inner) : document.querySelector(host);
      const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const at = node.data.indexOf(text);
        if (at < 0) continue;
        const range = document.createRange();
        range.setStart(node, at);
        range.setEnd(node, at + text.length);
        const rects = [...range.getClientRects()];
        const first = rects[0];
        const last = rects[rects.length - 1];
        return { x1: first.left + 1, y1: first.top + first.height / 2, x2: last.right - 1, y2: last.top + last.height / 2 };
      }
      return null;
    },
    { selector, text },
  );
  if (!box) throw new Error(`"${text}" not found in ${selector}`);
  const offset = frame ? await page.locator(frame).boundingBox() : { x: 0, y: 0 };
  const border = frame ? 1 : 0; // the demo's frames have a 1px border
  await page.mouse.move(offset.x + border + box.x1, offset.y + border + box.y1);
  await page.mouse.down();
  await page.mouse.move(offset.x + border + box.x2, offset.y + border + box.y2, { steps: 8 });
  await page.mouse.up();
  const selected = await target.evaluate(() => {
    const selection = document.getSelection();
    const hosts = [...document.querySelectorAll('*')].filter((e) => e.shadowRoot).map((e) => e.shadowRoot);
    const [range] = selection.getComposedRanges({ shadowRoots: hosts });
    if (!range || range.collapsed) return '';
    const live = document.createRange();
    live.setStart(range.startContainer, range.startOffset);
    live.setEnd(range.endContainer, range.endOffset);
    return live.toString();
  });
  if (selected.trim() !== text.trim()) throw new Error(`selected "${selected}" instead of "${text}"`);
}

/** The texts Inflow highlights inside the frame whose URL contains `urlPart`. */
export function highlightedTextsInFrame(page, urlPart) {
  const frame = page.frames().find((f) => f.url().includes(urlPart));
  if (!frame) return Promise.resolve([]);
  return frame.evaluate(() => {
    const highlight = CSS.highlights.get('inflow-tip');
    return highlight ? [...highlight].map((range) => range.toString()) : [];
  });
}

// ---- Inflow's in-page UI lives in a closed shadow root: scripts of the page (and so
// Playwright's selectors) cannot reach it. The DevTools protocol sees it, as assistive
// technology does, so tests read and click it through that.

async function inflowShadow(page) {
  const cdp = await page.context().newCDPSession(page);
  const { root } = await cdp.send('DOM.getDocument', { depth: -1, pierce: true });
  const find = (node, test) => {
    if (test(node)) return node;
    for (const child of [...(node.children ?? []), ...(node.shadowRoots ?? []), ...(node.contentDocument ? [node.contentDocument] : [])]) {
      const hit = find(child, test);
      if (hit) return hit;
    }
    return null;
  };
  const attrs = (node) => {
    const list = node.attributes ?? [];
    const map = {};
    for (let i = 0; i < list.length; i += 2) map[list[i]] = list[i + 1];
    return map;
  };
  const host = find(root, (node) => 'data-inflow-ui' in attrs(node));
  return { cdp, shadow: host?.shadowRoots?.[0] ?? null, find, attrs };
}

function textOf(node) {
  if (node.nodeType === 3) return node.nodeValue;
  return [...(node.children ?? [])].map(textOf).join('');
}

/** Runs `use(node, cdp)` on the shown UI element with `className` (null if absent or hidden). */
async function withUiNode(page, className, use) {
  const { cdp, shadow, find, attrs } = await inflowShadow(page);
  try {
    const node = shadow && find(shadow, (n) => (attrs(n).class ?? '').split(' ').includes(className));
    return await use(node && !('hidden' in attrs(node)) ? node : null, cdp);
  } finally {
    await cdp.detach();
  }
}

async function borderBox(cdp, node) {
  const { model } = await cdp.send('DOM.getBoxModel', { backendNodeId: node.backendNodeId });
  const [x1, y1, , , x3, y3] = model.border;
  return { x: x1, y: y1, width: x3 - x1, height: y3 - y1 };
}

/** Inflow's frame in `page` (the capture form, the cards, the peek: an extension page, so
 *  the page's own scripts cannot read it; Playwright reaches it as the browser's frame),
 *  while it is shown; else null. */
export async function inflowFrame(page) {
  for (const frame of page.frames().filter((f) => f.url().startsWith('chrome-extension://') && f.url().includes('/tipframe.html'))) {
    const element = await frame.frameElement().catch(() => null);
    if (element && (await element.isVisible().catch(() => false))) return frame;
  }
  return null;
}

/** The first shown element with `className` in Inflow's frame, as a locator, or null. */
async function frameNode(page, className) {
  const frame = await inflowFrame(page);
  if (!frame) return null;
  const node = frame.locator(`.${className}:visible`).first();
  return (await node.count()) ? node : null;
}

/** The visible text of the UI element with `className` (in the closed shadow root, or in
 *  Inflow's frame), or null if absent or hidden. */
export async function uiText(page, className) {
  const inShadow = await withUiNode(page, className, (node) => (node ? textOf(node) : null));
  if (inShadow !== null) return inShadow;
  const node = await frameNode(page, className);
  return node ? node.innerText().catch(() => null) : null;
}

/** The viewport box of the UI element with `className`, or null if it is not shown. */
export async function uiBox(page, className) {
  const inShadow = await withUiNode(page, className, (node, cdp) =>
    // Inflow redraws its markers as the page changes: one found a moment ago may be gone,
    // which is "not there yet" to a caller that retries.
    node ? borderBox(cdp, node).catch(() => null) : null,
  );
  if (inShadow) return inShadow;
  const node = await frameNode(page, className);
  return node ? node.boundingBox().catch(() => null) : null;
}

/** Clicks the UI element with `className` with the real mouse; fails if it is not shown. */
export async function uiClick(page, className) {
  const box = await uiBox(page, className);
  if (!box) throw new Error(`Inflow's ${className} is not shown`);
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
}

/** Selects `text` and opens the capture form with the in-page "+ Tip" button. */
export async function openFormWithButton(page, selector, text, options) {
  await dragSelect(page, selector, text, options);
  await uiTextEventually(page, 'add', (t) => t.includes('Tip'), 'the + Tip button');
  await uiClick(page, 'add');
  await uiTextEventually(page, 'quote', (t) => t === text.trim(), 'the capture form with the quote');
}

/** Waits until the UI element with `className` shows text that `accept` likes. */
export function uiTextEventually(page, className, accept, what) {
  return eventually(() => uiText(page, className), (text) => text !== null && accept(text), { what });
}

// ---- The team's server -----------------------------------------------------------------

const SERVER_BIN = process.env.INFLOW_SERVER_BIN;

/** Runs `inflow-server` with `args` on `database`; resolves to its last line of output. */
function serverCli(database, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(SERVER_BIN, args, { env: { ...process.env, INFLOW_DATABASE_URL: database }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (err += chunk));
    child.on('exit', (code) => (code === 0 ? resolve(out.trim().split('\n').pop()) : reject(new Error(`inflow-server ${args.join(' ')}: ${err}`))));
  });
}

/** A real `inflow-server` on a fresh SQLite database with one team and the named members
 *  (role `member` unless `roles` names another),
 *  behind a recording proxy whose address stays the same when the server restarts.
 *  Resolves to { url, team (its id), tokens: {name: token}, requests, stop, start, exportTips, cli }. */
export async function startTeamServer(memberNames, { roles = {} } = {}) {
  if (!SERVER_BIN) throw new Error('INFLOW_SERVER_BIN is unset: run the tests through `cargo xtask test`');
  const dir = mkdtempSync(join(tmpdir(), 'inflow-server-'));
  const database = `sqlite://${join(dir, 'inflow.db')}`;
  const team = await serverCli(database, ['team', 'create', 'E2E ward']);
  const tokens = {};
  for (const name of memberNames) tokens[name] = await serverCli(database, ['member', 'add', '--team', team, '--name', name, '--role', roles[name] ?? 'member']);
  let child = null;
  let upstream = null;
  const start = async () => {
    child = spawn(SERVER_BIN, ['serve', '--listen', '127.0.0.1:0'], { env: { ...process.env, INFLOW_DATABASE_URL: database }, stdio: ['ignore', 'pipe', 'inherit'] });
    upstream = await new Promise((resolve, reject) => {
      let seen = '';
      child.stdout.on('data', (chunk) => {
        seen += chunk;
        const match = seen.match(/listening on http:\/\/(\S+)/);
        if (match) resolve(match[1]);
      });
      child.on('exit', (code) => reject(new Error(`inflow-server exited (${code}) before listening`)));
    });
  };
  const stop = async () => {
    if (!child) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    child = null;
    upstream = null;
  };
  await start();
  // Every request and its body, as the network carried it from the browsers.
  const requests = [];
  const proxy = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      requests.push({ method: req.method, path: req.url, body: body.toString('utf8') });
      if (!upstream) {
        req.socket.destroy(); // the server is down: the connection fails as it would
        return;
      }
      const forward = http.request(`http://${upstream}${req.url}`, { method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode, answer.headers);
        answer.pipe(res);
        // An answer cut off by the server's death is cut off for the browser too (a pipe
        // alone would leave an event stream open for ever, which no real proxy does).
        answer.on('aborted', () => res.destroy());
        answer.on('error', () => res.destroy());
        answer.on('close', () => {
          if (!answer.complete) res.destroy();
        });
      });
      forward.on('error', () => req.socket.destroy());
      forward.end(body);
    });
  });
  await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${proxy.address().port}`;
  const exportTips = async () => JSON.parse(await new Promise((resolve, reject) => {
    const child = spawn(SERVER_BIN, ['export', '--format', 'backup'], { env: { ...process.env, INFLOW_DATABASE_URL: database }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`export failed (${code})`))));
  }));
  const close = async () => {
    await stop();
    proxy.close();
    rmSync(dir, { recursive: true, force: true });
  };
  /** Runs `inflow-server ARGS` on this server's database; resolves to its last line of output. */
  const cli = (args) => serverCli(database, args);
  return { url, team, tokens, requests, stop, start, exportTips, cli, close };
}

/** Opens `browser`'s side panel page and waits until it is wired up. */
export async function openPanel(browser) {
  return openExtensionPage(browser, 'sidepanel.html');
}

/** Opens the extension page `file` of `browser` in a tab and waits until it is wired up. */
export async function openExtensionPage(browser, file) {
  const page = await browser.context.newPage();
  await page.goto(`chrome-extension://${browser.extensionId}/${file}`);
  await page.locator('main[aria-busy="false"]').waitFor();
  return page;
}

/** Connects the extension in `context` to the team's server through its options page. */
export async function connect(context, extensionId, serverUrl, token) {
  const page = await context.newPage();
  await page.goto(`chrome-extension://${extensionId}/options.html`);
  await page.locator('main[aria-busy="false"]').waitFor(); // the page is wired up
  await page.getByLabel('Server address').fill(serverUrl);
  await page.getByLabel('Member token').fill(token);
  await page.getByRole('button', { name: 'Save and connect' }).click();
  const result = page.locator('#connection-result');
  await eventually(() => result.textContent(), (t) => t.startsWith('Saved. Connected to team'), { what: 'the connection to the team server', timeout: 10000 });
  await page.close();
}

/** Captures a tip on `text` in the orders table of `page` with `note`, for "My team" or
 *  "Only me" (`offline`: no team server answers, none is set or it is down), and waits until the
 *  extension of `browser` has stored it. */
export function captureOnOrders(browser, page, text, note, options) {
  return captureIn(browser, page, 'table.orders', text, note, options);
}

/** As `captureOnOrders`, on `text` inside the page's element `selector`. */
export async function captureIn(browser, page, selector, text, note, { team, tags = '', offline = false }) {
  await openFormWithButton(page, selector, text);
  await page.keyboard.type(note);
  await page.keyboard.press('Tab');
  await page.keyboard.type(tags);
  await page.keyboard.press('Tab');
  await page.keyboard.press(team ? 'ArrowDown' : 'ArrowUp'); // "Who sees it" (the form keeps the last choice)
  await page.keyboard.press('Control+Enter');
  // A shared tip that cannot reach the server yet is said to wait, never to be the team's.
  const notice = !team ? 'only you' : offline ? 'waits on this computer until Inflow reaches your team' : 'saved for your team';
  await uiTextEventually(page, 'notice', (t) => t.includes(notice), 'the saved notice');
  const [tip] = await eventually(async () => (await storedTips(browser.worker)).filter((t) => t.note === note), (tips) => tips.length === 1, { what: `the tip "${note}" stored` });
  if (tip.visibility !== (team ? 'team' : 'private')) throw new Error(`the tip "${note}" was stored as ${tip.visibility}`);
  return tip;
}

/** Right-clicks `locator` in its page and chooses "Pin an Inflow tip to this element" from
 *  Inflow's context menu (dispatched through the worker: headless Chromium draws no menu). */
export async function pinWithContextMenu(worker, locator) {
  await locator.click({ button: 'right' }); // a real right-click: the page sees the contextmenu event
  await worker.evaluate(async () => {
    const [tab] = await chrome.tabs.query({ active: true, lastFocusedWindow: true });
    chrome.contextMenus.onClicked.dispatch({ menuItemId: 'inflow-pin' }, tab);
  });
}
