// The welcome page, opened once on install: loads the Rust/wasm package, which fills in
// the keys and the connection (see src/options_page.rs). No logic lives here.
import init, { welcomePage } from './pkg/inflow_pages.js';

init({ module_or_path: new URL('./pkg/inflow_pages_bg.wasm', import.meta.url) })
  .then(() => welcomePage())
  .catch((error) => {
    document.getElementById('welcome-connection').textContent = `Inflow's welcome page could not start: ${error}`;
  });
