// The side panel: loads the Rust/wasm package, which builds and runs the panel (see
// src/side_panel.rs). Only start-up lives here: what can begin before the code is ready.
import init, { sidePanel } from './pkg/inflow_pages.js';

// The database starts opening while the code compiles; the panel takes the connection over
// (or, on a first run or after an update, opens and upgrades the database itself).
const connection = new Promise((resolve) => {
  const request = indexedDB.open('inflow');
  request.onupgradeneeded = () => request.transaction.abort(); // no database yet: not ours to create
  request.onsuccess = () => resolve(request.result);
  request.onerror = () => resolve(null);
});

// The code compiles while the page parses; the panel starts once both are done.
const parsed = document.readyState === 'loading' ? new Promise((resolve) => document.addEventListener('DOMContentLoaded', resolve, { once: true })) : null;

Promise.all([init({ module_or_path: new URL('./pkg/inflow_pages_bg.wasm', import.meta.url) }), connection, parsed])
  .then(([, db]) => sidePanel(db))
  .catch(async (error) => {
    await parsed;
    document.getElementById('sync-line').textContent = `Inflow's panel could not start: ${error}`;
  });
