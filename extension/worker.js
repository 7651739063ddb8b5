// Inflow's service worker: a thin shim. It registers every listener synchronously (MV3
// wakes the worker for an event only if its listener exists in the first turn) and hands
// each event to the Rust/wasm code, which makes every decision.
import init, { handleMessage, onCommand, onContextMenuClicked, onInstalled, syncGrantedSites } from './pkg/inflow_extension.js';

// Start compiling at load; never top-level-await it (that would delay listener set-up).
const ready = init({ module_or_path: new URL('./pkg/inflow_extension_bg.wasm', import.meta.url) });

chrome.runtime.onInstalled.addListener(() => {
  ready.then(() => onInstalled()).catch((error) => console.error('Inflow set-up failed', error));
});

// Sites granted or revoked at run time (options page, or Chrome's site-access settings).
const syncSites = () => ready.then(() => syncGrantedSites()).catch((error) => console.error('Inflow site sync failed', error));
chrome.permissions.onAdded.addListener(syncSites);
chrome.permissions.onRemoved.addListener(syncSites);
chrome.runtime.onStartup.addListener(syncSites);

chrome.runtime.onMessage.addListener((message, sender, sendResponse) => {
  if (sender.id !== chrome.runtime.id) return false;
  ready
    .then(() => handleMessage(message, sender.url ?? ''))
    .then(sendResponse, (error) => sendResponse({ type: 'error', message: `Inflow failed: ${error}` }));
  return true; // the answer comes asynchronously
});

chrome.commands.onCommand.addListener((command, tab) => {
  ready.then(() => onCommand(command, tab?.id ?? -1, tab?.url ?? '')).catch(console.error);
});

chrome.contextMenus.onClicked.addListener((info, tab) => {
  ready.then(() => onContextMenuClicked(String(info.menuItemId), tab?.id ?? -1, tab?.url ?? '')).catch(console.error);
});
