// A collection exported as a cmi5 course, as an LMS would take it: `inflow-server export
// --format cmi5` writes the package; its course structure validates against cmi5's schema
// (kept in tests/cmi5); its unit, served as an LMS serves it and launched with cmi5's launch
// parameters, is paged through by keyboard in Chromium and speaks to a recording stand-in
// of the LMS's record store, which checks the auth token flow and every statement. A launch
// in Browse mode records no completion; the page opened with no LMS is a reading course.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually, launch, newProfileDir, startTeamServer } from './harness.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCHEMA = join(ROOT, 'tests/cmi5/CourseStructure.xsd');
const TIPS_FILE = join(ROOT, 'core/tests/golden/everything.jsonld');
const COLLECTION = 'Orders <after> the March upgrade';
const CMI5_CATEGORY = 'https://w3id.org/xapi/cmi5/context/categories/cmi5';
const MOVEON_CATEGORY = 'https://w3id.org/xapi/cmi5/context/categories/moveon';
const SESSION_ID = 'https://w3id.org/xapi/cmi5/context/extensions/sessionid';
const VERB = (name) => `http://adlnet.gov/expapi/verbs/${name}`;

let server;
let work;
let unitDir;
let unitServer;
let lrs;
let order; // the collection's tip ids, in the curator's order
before(async () => {
  server = await startTeamServer(['Cory'], { roles: { Cory: 'curator' } });
  work = mkdtempSync(join(tmpdir(), 'inflow-cmi5-'));
  // The team's tips (a file the team imports, not made by this test), gathered by the
  // curator into a collection in an order of her own: the last tip first.
  await server.cli(['import', TIPS_FILE, '--team', server.team]);
  const tips = (await server.exportTips()).map((row) => row.tip.tip).filter((tip) => tip.visibility === 'team');
  order = [...tips].reverse().map((tip) => tip.id);
  const answer = await fetch(`${server.url}/v1/collections/${uuidV7()}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${server.tokens.Cory}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: COLLECTION, tips: order }),
  });
  assert.equal(answer.status, 200, await answer.text());
  lrs = await startRecordStore();
});
after(async () => {
  await server?.close();
  unitServer?.close();
  lrs?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('a collection as a cmi5 course', () => {
  test('the package holds a course structure that cmi5 schema validates and the collection, in order', async () => {
    const zip = join(work, 'course.zip');
    await server.cli([
      'export', '--team', server.team, '--collection', COLLECTION.toUpperCase(), '--format', 'cmi5', '--out', zip,
      '--cmi5-script', join(process.env.INFLOW_DIST, 'cmi5-au.js'),
    ]);
    unitDir = join(work, 'course');
    execFileSync('python3', ['-m', 'zipfile', '-e', zip, unitDir]);
    for (const file of ['cmi5.xml', 'index.html', 'au.js']) assert.ok(existsSync(join(unitDir, file)), `${file} is in the package`);
    // As an LMS's import checks it: against the specification's schema.
    execFileSync('xmllint', ['--noout', '--schema', SCHEMA, join(unitDir, 'cmi5.xml')], { stdio: 'pipe' });
    const structure = readFileSync(join(unitDir, 'cmi5.xml'), 'utf8');
    assert.match(structure, /<course id="urn:inflow:course:[0-9a-f-]{36}">/);
    assert.ok(structure.includes('<langstring lang="en">Orders &lt;after&gt; the March upgrade</langstring>'), 'the title is text, escaped');
    assert.match(structure, /<au id="urn:inflow:course:[0-9a-f-]{36}:steps" moveOn="Completed" launchMethod="AnyWindow">/);
    assert.match(structure, /<url>index.html<\/url>/);
    const unit = readFileSync(join(unitDir, 'index.html'), 'utf8');
    assert.deepEqual([...unit.matchAll(/<article class="tip" id="tip-([^"]+)"/g)].map((m) => m[1]), order, "one step a tip, in the collection's order");
    unitServer = await serveDirectory(unitDir);
  });

  test('launched by an LMS, the unit is paged by keyboard and sends initialized, completed once, terminated', async () => {
    assert.ok(unitServer, 'the package was exported');
    const profile = newProfileDir();
    const browser = await launch(profile.dir);
    try {
      const launchData = lrs.launch({ launchMode: 'Normal', returnURL: `${lrs.url}/returned` });
      const page = await browser.context.newPage();
      await page.goto(`${unitServer.url}/index.html?${launchData.query}`);
      const steps = page.locator('section.step');
      const total = await steps.count();
      assert.equal(total, 3, 'one step for each tip of the collection');
      await eventually(() => page.locator('#record').textContent(), (t) => t.includes('recorded by your learning system'), { what: 'the session started' });
      assert.equal(await page.locator('section.step:visible').count(), 1, 'one step at a time');
      assert.equal(await page.locator('section.step:visible .step-of').textContent(), `Step 1 of ${total}`);

      // By keyboard alone: Tab to Next, Enter, until the last step; then Back and Next again.
      const reached = [];
      while (reached.length < 10 && reached.at(-1) !== 'next') {
        await page.keyboard.press('Tab');
        reached.push(await page.evaluate(() => `${document.activeElement?.tagName.toLowerCase()}#${document.activeElement?.id}`.replace(/^button#/, '')));
      }
      assert.equal(reached.at(-1), 'next', `Next is reached by Tab (Back is disabled on the first step): ${reached.join(', ')}`);
      for (let step = 2; step <= total; step += 1) {
        await page.locator('#next').focus();
        await page.keyboard.press('Enter');
        assert.equal(await page.locator('section.step:visible .step-of').textContent(), `Step ${step} of ${total}`);
      }
      assert.equal(await page.evaluate(() => document.activeElement?.id), `step-${total}`, 'the step shown takes the focus');
      await eventually(() => lrs.statements(launchData.registration), (s) => s.length === 2, { what: 'completed, on reaching the last step' });
      await page.locator('#back').focus();
      await page.keyboard.press('Enter');
      await page.locator('#next').focus();
      await page.keyboard.press('Enter');
      await page.locator('#finish').focus();
      await page.keyboard.press('Enter');
      await page.waitForURL(`${lrs.url}/returned`);

      const statements = lrs.statements(launchData.registration);
      assert.deepEqual(statements.map((s) => s.verb.id), [VERB('initialized'), VERB('completed'), VERB('terminated')], 'initialized, completed once, terminated: in that order');
      for (const statement of statements) {
        assert.deepEqual(statement.actor, launchData.actor, 'the learner the LMS named');
        assert.equal(statement.object.id, launchData.activityId, 'the unit the LMS launched');
        assert.equal(statement.context.registration, launchData.registration);
        assert.ok(statement.context.contextActivities.category.some((c) => c.id === CMI5_CATEGORY), 'a cmi5 defined statement');
        assert.deepEqual(statement.context.contextActivities.grouping, launchData.template.contextActivities.grouping, "the LMS's context template");
        assert.equal(statement.context.extensions[SESSION_ID], launchData.sessionId, "the LMS's session");
        assert.match(statement.id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
        assert.ok(!Number.isNaN(Date.parse(statement.timestamp)));
      }
      const [, completed, terminated] = statements;
      assert.ok(completed.context.contextActivities.category.some((c) => c.id === MOVEON_CATEGORY), 'completion counts towards moveOn');
      assert.equal(completed.result.completion, true);
      assert.match(completed.result.duration, /^PT/);
      assert.match(terminated.result.duration, /^PT/);

      // The auth token flow: fetched once, with POST, then on every request to the store.
      const session = lrs.session(launchData.registration);
      assert.equal(session.fetches, 1, 'the fetch URL is used once');
      assert.ok(session.requests.length >= 4, 'launch data, statements');
      for (const request of session.requests) {
        assert.equal(request.authorization, `Basic ${session.token}`, `${request.method} ${request.path} carries the token`);
        assert.match(request.version, /^1\.0\.\d$/, 'the xAPI version header');
      }
      const firstStatement = session.requests.findIndex((r) => r.path.includes('/statements'));
      const launchDataRead = session.requests.findIndex((r) => r.path.includes('stateId=LMS.LaunchData'));
      assert.ok(launchDataRead >= 0 && launchDataRead < firstStatement, 'LMS.LaunchData is read before any statement');
    } finally {
      await browser.context.close();
      profile.remove();
    }
  });

  test('in Browse mode nothing is completed; with no LMS the unit is a reading course that sends nothing', async () => {
    assert.ok(unitServer, 'the package was exported');
    const profile = newProfileDir();
    const browser = await launch(profile.dir);
    try {
      const launchData = lrs.launch({ launchMode: 'Browse' });
      const page = await browser.context.newPage();
      await page.goto(`${unitServer.url}/index.html?${launchData.query}`);
      await eventually(() => page.locator('#record').textContent(), (t) => t.includes('recorded by your learning system'), { what: 'the session started' });
      while (await page.locator('#next').isVisible()) await page.locator('#next').click();
      await page.locator('#finish').click();
      await eventually(() => page.locator('#record').textContent(), (t) => t.startsWith('Finished.'), { what: 'the end, with no return address' });
      assert.deepEqual(lrs.statements(launchData.registration).map((s) => s.verb.id), [VERB('initialized'), VERB('terminated')], 'no completion in Browse mode');

      const before = lrs.requestCount();
      const reading = await browser.context.newPage();
      await reading.goto(`${unitServer.url}/index.html`);
      while (await reading.locator('#next').isVisible()) await reading.locator('#next').click();
      await reading.locator('#finish').click();
      await eventually(() => reading.locator('#record').textContent(), (t) => t === 'You have read every step.', { what: 'the reading course finished' });
      assert.equal(lrs.requestCount(), before, 'nothing was sent anywhere');
    } finally {
      await browser.context.close();
      profile.remove();
    }
  });
});

/** A UUID v7 (the server's collection ids are time-ordered UUIDs). */
function uuidV7() {
  const hex = Date.now().toString(16).padStart(12, '0');
  const rest = randomUUID().replace(/-/g, '').slice(12);
  return `${hex.slice(0, 8)}-${hex.slice(8)}-7${rest.slice(1, 4)}-${((parseInt(rest[4], 16) & 3) | 8).toString(16)}${rest.slice(5, 8)}-${rest.slice(8, 20)}`;
}

/** Serves `dir` over HTTP on loopback, as an LMS serves an imported package. */
async function serveDirectory(dir) {
  const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.xml': 'application/xml' };
  const httpServer = http.createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    const file = join(dir, path);
    if (!file.startsWith(dir) || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  await new Promise((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${httpServer.address().port}`, close: () => httpServer.close() };
}

/** A stand-in for an LMS's record store, on another origin than the unit (as an LMS's
 *  often is): it hands out one auth token per launch through the fetch URL, answers
 *  LMS.LaunchData and the learner preferences, and records every statement and request. */
async function startRecordStore() {
  const sessions = new Map(); // registration -> { token, fetches, launchData, requests, statements }
  const byToken = new Map();
  const byFetch = new Map();
  let count = 0;
  const cors = {
    'access-control-allow-origin': '*',
    'access-control-allow-headers': 'Authorization, Content-Type, X-Experience-API-Version',
    'access-control-allow-methods': 'GET, POST, PUT, OPTIONS',
  };
  const httpServer = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const reply = (status, body, headers = {}) => {
        res.writeHead(status, { ...cors, 'content-type': 'application/json', 'x-experience-api-version': '1.0.3', ...headers });
        res.end(body === undefined ? '' : JSON.stringify(body));
      };
      if (req.method === 'OPTIONS') return reply(204);
      const url = new URL(req.url, 'http://x');
      if (url.pathname === '/returned') {
        res.writeHead(200, { 'content-type': 'text/html' }).end('<p>Back in the LMS</p>');
        return;
      }
      count += 1;
      if (url.pathname.startsWith('/fetch/')) {
        // cmi5: the fetch URL is POSTed once; a second use is an error, said in its body.
        const session = byFetch.get(url.pathname);
        if (!session || req.method !== 'POST') return reply(400, { 'error-code': '3', 'error-text': 'not a fetch request' });
        session.fetches += 1;
        if (session.fetches > 1) return reply(200, { 'error-code': '1', 'error-text': 'already in use' });
        return reply(200, { 'auth-token': session.token });
      }
      const token = (req.headers.authorization ?? '').replace(/^Basic /, '');
      const session = byToken.get(token);
      if (!session) return reply(401, { error: 'no such token' });
      session.requests.push({ method: req.method, path: req.url, authorization: req.headers.authorization, version: req.headers['x-experience-api-version'] });
      if (url.pathname === '/xapi/activities/state' && url.searchParams.get('stateId') === 'LMS.LaunchData' && req.method === 'GET') {
        return reply(200, session.launchData);
      }
      if (url.pathname === '/xapi/agents/profile') return reply(404, { error: 'no preferences' });
      if (url.pathname === '/xapi/statements' && (req.method === 'POST' || req.method === 'PUT')) {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        const statements = Array.isArray(body) ? body : [body];
        session.statements.push(...statements);
        return reply(200, statements.map((s) => s.id));
      }
      return reply(404, { error: `not served here: ${req.method} ${url.pathname}` });
    });
  });
  await new Promise((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${httpServer.address().port}`;
  return {
    url,
    /** A new launch: its registration, token and launch data; `query` is the unit's launch URL's. */
    launch({ launchMode, returnURL }) {
      const registration = randomUUID();
      const token = randomUUID().replace(/-/g, '');
      const sessionId = randomUUID();
      const actor = { objectType: 'Agent', account: { homePage: 'https://lms.example', name: `learner-${registration.slice(0, 8)}` }, name: 'Sam Learner' };
      const activityId = `https://lms.example/activities/${registration}`;
      const template = {
        contextActivities: { grouping: [{ objectType: 'Activity', id: 'urn:inflow:course:published' }] },
        extensions: { [SESSION_ID]: sessionId },
      };
      const launchData = { contextTemplate: template, launchMode, moveOn: 'Completed', ...(returnURL ? { returnURL } : {}) };
      const fetchPath = `/fetch/${registration}`;
      const session = { token, fetches: 0, launchData, requests: [], statements: [] };
      sessions.set(registration, session);
      byToken.set(token, session);
      byFetch.set(fetchPath, session);
      const query = new URLSearchParams({
        endpoint: `${url}/xapi/`,
        fetch: `${url}${fetchPath}`,
        actor: JSON.stringify(actor),
        registration,
        activityId,
      }).toString();
      return { registration, actor, activityId, sessionId, template, query };
    },
    statements: (registration) => sessions.get(registration)?.statements ?? [],
    session: (registration) => sessions.get(registration),
    requestCount: () => count,
    close: () => httpServer.close(),
  };
}
