// Inflow's tip frame: loads the Rust/wasm package, which builds the form and cards (see
// src/tip_frame.rs). Only start-up lives here: the content script's port must be accepted
// in the first turn, before the code is ready, so its messages wait here until it is
// (the content script sends them as soon as it is connected).
import init, { tipFrame, frameReceive } from './pkg/inflow_frame.js';

// The content script that made this frame names it in the address; only its port is ours.
performance.mark('inflow:frame-script'); // for `cargo xtask bench content`
const portName = `inflow-frame:${location.hash.slice(1)}`;
const early = [];
let port = null;
let ready = null; // the frame's "ready" message, once its code runs
chrome.runtime.onConnect.addListener((offered) => {
  if (port || offered.name !== portName || offered.sender?.id !== chrome.runtime.id) return;
  port = offered;
  port.onMessage.addListener((message) => {
    if (ready) return frameReceive(message);
    // Shown before the code was ready, a preview is stale once anything else is to be shown.
    if (early.at(-1)?.type === 'peek') early.pop();
    early.push(message);
  });
  if (ready) port.postMessage(ready);
});
const post = (message) => port?.postMessage(message);

const parsed = document.readyState === 'loading' ? new Promise((resolve) => document.addEventListener('DOMContentLoaded', resolve, { once: true })) : null;
Promise.all([init({ module_or_path: new URL('./pkg/inflow_frame_bg.wasm', import.meta.url) }), parsed])
  .then(() => tipFrame(post))
  .then((readyMessage) => {
    performance.mark('inflow:frame-ready'); // for `cargo xtask bench content`
    ready = readyMessage;
    early.splice(0).forEach((message) => frameReceive(message));
    post(ready);
  })
  .catch((error) => console.error('Inflow\'s tip frame could not start', error));
