// The options page: loads the Rust/wasm package, which wires up the page (see
// src/options_page.rs). No logic lives here.
import init, { optionsPage } from './pkg/inflow_pages.js';

init({ module_or_path: new URL('./pkg/inflow_pages_bg.wasm', import.meta.url) })
  .then(() => optionsPage())
  .catch((error) => {
    document.getElementById('connection-result').textContent = `Inflow's options could not start: ${error}`;
  });
