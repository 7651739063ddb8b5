// Enterprise deployment: IT sets the team server and token by policy. Chromium reads
// policy from /etc/chromium/policies/managed, so this test writes a policy file there for
// this extension's id only (as root, as CI runs) and removes it afterwards. The options
// page shows the values locked, and the browser syncs with them without the user typing.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { eventually, launch, newProfileDir, startTeamServer } from './harness.mjs';

const POLICY_DIR = '/etc/chromium/policies/managed';
const root = process.getuid?.() === 0;

let server;
before(async () => (server = await startTeamServer(['Priya'])));
after(async () => server.close());

test('the server and token set by policy are used and shown locked', { skip: !root && 'writing Chromium policy needs root (CI runs as root)' }, async () => {
  const profile = newProfileDir();
  let browser = await launch(profile.dir);
  const policyFile = `${POLICY_DIR}/inflow-e2e-${process.pid}.json`;
  try {
    // The extension's id comes from its folder, so it is known only after a first start.
    const id = browser.extensionId;
    await browser.context.close();
    mkdirSync(POLICY_DIR, { recursive: true });
    writeFileSync(policyFile, JSON.stringify({ '3rdparty': { extensions: { [id]: { serverUrl: server.url, token: server.tokens.Priya } } } }));
    browser = await launch(profile.dir); // policy is read at start

    const options = await browser.context.newPage();
    await options.goto(`chrome-extension://${id}/options.html`);
    await options.locator('main[aria-busy="false"]').waitFor();
    // The browser reads policy a moment after it starts; the page shows it when it can.
    await eventually(() => options.getByLabel('Server address').isDisabled(), (locked) => locked, { what: 'the address locked by policy', timeout: 10000 });
    assert.equal(await options.getByLabel('Server address').inputValue(), server.url);
    assert.ok(await options.getByLabel('Member token').isDisabled(), 'the token is locked');
    assert.ok(await options.getByText('Your organisation sets these').isVisible());
    await options.getByRole('button', { name: 'Sync now' }).click();
    await eventually(() => options.locator('#sync-state').textContent(), (t) => t.includes('YouPriya, member'), { what: 'the membership the policy token names', timeout: 10000 });
    assert.ok(server.requests.some((request) => request.path === '/v1/me'), 'the browser reached the server with the policy token');
  } finally {
    rmSync(policyFile, { force: true });
    await browser.context.close();
    profile.remove();
  }
});
