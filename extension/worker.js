// Inflow's service worker: a thin shim. It registers every listener synchronously (MV3
// wakes the worker for an event only if its listener exists in the first turn) and hands
// each event to the Rust/wasm code, which makes every decision.
import init, {
  handleMessage, handlePageMessage, onAlarm, onCommand, onContextMenuClicked, onInstalled, onStartup, refreshPolicy, syncGrantedSites,
} from './pkg/inflow_extension.js';

// Start compiling at load; never top-level-await it (that would delay listener set-up).
const ready = init({ module_or_path: new URL('./pkg/inflow_extension_bg.wasm', import.meta.url) });
const report = (what) => (error) => console.error(`Inflow ${what} failed`, error);

chrome.runtime.onInstalled.addListener(({ reason }) => {
  ready.then(() => onInstalled(reason)).catch(report('set-up'));
});

// Sites granted or revoked at run time (options page, or Chrome's site-access settings).
const syncSites = () => ready.then(() => syncGrantedSites()).catch(report('site sync'));
chrome.permissions.onAdded.addListener(syncSites);
chrome.permissions.onRemoved.addListener(syncSites);
chrome.runtime.onStartup.addListener(() => {
  ready.then(() => onStartup()).catch(report('start-up'));
});
chrome.storage.onChanged.addListener((_changes, area) => {
  if (area === 'managed') ready.then(() => refreshPolicy()).catch(report('policy update'));
});
chrome.alarms.onAlarm.addListener((alarm) => {
  ready.then(() => onAlarm(alarm.name)).catch(report('background sync'));
});

// The extension's own pages (options, side panel) and content scripts in web pages speak
// different protocols; the browser's record of the sender tells them apart.
const ownPages = chrome.runtime.getURL('');
chrome.runtime.onMessage.addListener((message, sender, sendResponse) => {
  if (sender.id !== chrome.runtime.id) return false;
  const fromOwnPage = (sender.url ?? '').startsWith(ownPages);
  ready
    .then(() => (fromOwnPage ? handlePageMessage(message) : handleMessage(message, sender.url ?? '', sender.tab?.id ?? -1)))
    .then(sendResponse, (error) => sendResponse({ type: 'error', message: `Inflow failed: ${error}` }));
  return true; // the answer comes asynchronously
});

chrome.commands.onCommand.addListener((command, tab) => {
  ready.then(() => onCommand(command, tab?.id ?? -1, tab?.url ?? '')).catch(console.error);
});

chrome.contextMenus.onClicked.addListener((info, tab) => {
  ready.then(() => onContextMenuClicked(String(info.menuItemId), tab?.id ?? -1, tab?.url ?? '')).catch(console.error);
});
