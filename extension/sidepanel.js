// The side panel: loads the Rust/wasm package, which builds and runs the panel (see
// src/side_panel.rs). No logic lives here.
import init, { sidePanel } from './pkg/inflow_extension.js';

init({ module_or_path: new URL('./pkg/inflow_extension_bg.wasm', import.meta.url) })
  .then(() => sidePanel())
  .catch((error) => {
    document.getElementById('sync-line').textContent = `Inflow's panel could not start: ${error}`;
  });
