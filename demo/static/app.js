// Riverside General EMR (demo): a small single-page app in the style of real clinical
// systems. Client-side routing with the History API, chart data fetched after the shell
// loads, DOM built with textContent only (the page runs under a strict CSP).
'use strict';

const app = document.getElementById('app');
const signedNotes = new Map(); // patient id -> notes signed in this session
let renderToken = 0;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === 'text') node.textContent = value;
    else if (key === 'class') node.className = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  node.append(...children);
  return node;
}

function dataDelay() {
  const delay = new URLSearchParams(location.search).get('delay_ms');
  return delay === null ? '' : `?delay_ms=${encodeURIComponent(delay)}`;
}

async function getJson(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
  return response.json();
}

function navigate(path) {
  history.pushState({}, '', path + location.search);
  route();
}

document.addEventListener('click', (event) => {
  const link = event.target.closest('a[href^="/"]');
  if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
  event.preventDefault();
  navigate(link.getAttribute('href'));
});
addEventListener('popstate', route);

// The app's own shortcut: "/" focuses the patient search.
document.addEventListener('keydown', (event) => {
  const search = document.getElementById('patient-search');
  if (event.key === '/' && search && document.activeElement !== search && !event.target.closest('input,textarea')) {
    event.preventDefault();
    search.focus();
  }
});

async function route() {
  const token = ++renderToken;
  const parts = location.pathname.split('/').filter(Boolean);
  try {
    if (parts[0] === 'patients' && parts[1]) await renderChart(token, parts[1], parts[2] || 'orders');
    else await renderList(token);
  } catch (error) {
    if (token === renderToken) app.replaceChildren(el('p', { class: 'error', role: 'alert', text: `Could not load: ${error.message}` }));
  }
}

async function renderList(token) {
  document.title = 'Patient list — Riverside General EMR';
  app.replaceChildren(el('p', { class: 'loading', text: 'Loading patients…' }));
  const patients = await getJson('/api/patients');
  if (token !== renderToken) return;
  const search = el('input', { id: 'patient-search', type: 'search', placeholder: 'Search name or MRN (press /)', 'aria-label': 'Search patients' });
  const body = el('tbody');
  const fill = () => {
    const q = search.value.trim().toLowerCase();
    body.replaceChildren(
      ...patients
        .filter((p) => !q || p.name.toLowerCase().includes(q) || p.mrn.toLowerCase().includes(q))
        .map((p) =>
          el('tr', {},
            el('td', {}, el('a', { href: `/patients/${p.id}/orders`, text: p.name })),
            el('td', { text: p.mrn }), el('td', { text: p.dob }), el('td', { text: p.ward }), el('td', { text: p.attending }))),
    );
  };
  search.addEventListener('input', fill);
  fill();
  app.replaceChildren(
    el('h1', { text: 'My patients' }),
    search,
    el('table', { class: 'grid' },
      el('thead', {}, el('tr', {}, ...['Name', 'MRN', 'DOB', 'Location', 'Attending'].map((h) => el('th', { scope: 'col', text: h })))),
      body),
  );
}

async function renderChart(token, id, tab) {
  app.replaceChildren(el('p', { class: 'loading', text: 'Loading chart…' }));
  const patient = await getJson(`/api/patients/${encodeURIComponent(id)}${dataDelay()}`);
  if (token !== renderToken) return;
  const tabName = { orders: 'Orders', notes: 'Notes', vitals: 'Vitals' }[tab] || 'Orders';
  document.title = `${patient.name} — ${tabName} — Riverside General EMR`;
  const banner = el('section', { class: 'banner', 'aria-label': 'Patient banner' },
    el('h1', { text: patient.name }),
    el('dl', {},
      el('dt', { text: 'MRN' }), el('dd', { text: patient.mrn }),
      el('dt', { text: 'DOB' }), el('dd', { text: patient.dob }),
      el('dt', { text: 'Location' }), el('dd', { text: patient.ward }),
      el('dt', { text: 'Attending' }), el('dd', { text: patient.attending })),
    el('p', { class: 'allergies', text: `Allergies: ${patient.allergies.join(', ')}` }));
  banner.append(el('rg-code-status', { 'data-patient': id }));
  const tabs = el('nav', { class: 'tabs', 'aria-label': 'Chart sections' },
    ...['orders', 'notes', 'vitals'].map((t) =>
      el('a', { href: `/patients/${id}/${t}`, class: t === tab ? 'active' : '', 'aria-current': t === tab ? 'page' : 'false', text: t[0].toUpperCase() + t.slice(1) })));
  const content = el('section', { class: 'tab-content' });
  app.replaceChildren(banner, tabs, content);
  if (tab === 'notes') renderNotes(content, patient);
  else if (tab === 'vitals') renderVitals(content, patient);
  else renderOrders(content, patient);
}

function ordersTable(orders) {
  return el('table', { class: 'grid orders' },
    el('thead', {}, el('tr', {}, ...['Medication', 'Dose', 'Route', 'Frequency', 'Status', 'Start', 'Ordered by', 'Instructions'].map((h) => el('th', { scope: 'col', text: h })))),
    el('tbody', {}, ...orders.map((o) =>
      el('tr', { class: o.status === 'Active' ? '' : 'inactive' },
        el('td', { text: o.medication }), el('td', { text: o.dose }), el('td', { text: o.route }), el('td', { text: o.frequency }),
        el('td', { text: o.status }), el('td', { text: o.start }), el('td', { text: o.orderedBy }), el('td', { text: o.instructions })))));
}

function renderOrders(content, patient) {
  let table = ordersTable(patient.orders);
  // Re-renders the table in place, as apps do on polling: new nodes, same text.
  const refresh = el('button', { type: 'button', id: 'refresh-orders', text: 'Refresh', onclick: () => {
    const fresh = ordersTable(patient.orders);
    table.replaceWith(fresh);
    table = fresh;
  } });
  // Pharmacy's verification panel is a separate app of the same site, shown in a frame.
  const pharmacy = el('iframe', { src: `/frames/pharmacy/${encodeURIComponent(patient.id)}`, title: 'Pharmacy verification', class: 'pharmacy' });
  content.replaceChildren(el('div', { class: 'toolbar' }, el('h2', { text: 'Medication orders' }), refresh), table, pharmacy);
}

// The code-status badge is a web component with its own (open) shadow tree, as design
// systems ship them.
customElements.define('rg-code-status', class extends HTMLElement {
  connectedCallback() {
    if (this.shadowRoot) return;
    const root = this.attachShadow({ mode: 'open' });
    root.append(el('p', { class: 'code-status' },
      el('strong', { text: 'Code status: ' }), 'Full code. Advance directive on file, scanned 10/30.'));
  }
});

function renderNotes(content, patient) {
  const notes = () => [...patient.notes, ...(signedNotes.get(patient.id) || [])];
  const list = el('ol', { class: 'notes' });
  const fill = () => list.replaceChildren(...notes().map((n) =>
    el('li', {}, el('p', { class: 'meta', text: `${n.time} · ${n.author}` }), el('p', { text: n.text }))));
  fill();
  const text = el('textarea', { id: 'new-note', rows: '3', 'aria-label': 'New progress note' });
  const form = el('form', { class: 'new-note', onsubmit: (event) => {
    event.preventDefault();
    if (!text.value.trim()) return;
    const mine = signedNotes.get(patient.id) || [];
    mine.push({ author: 'K. Alvarez, RN', time: 'now', text: text.value.trim() });
    signedNotes.set(patient.id, mine);
    text.value = '';
    fill();
  } }, el('label', { for: 'new-note', text: 'Add progress note' }), text, el('button', { type: 'submit', text: 'Sign note' }));
  content.replaceChildren(el('h2', { text: 'Progress notes' }), list, form);
}

function renderVitals(content, patient) {
  content.replaceChildren(el('h2', { text: 'Vital signs' }), el('table', { class: 'grid' },
    el('thead', {}, el('tr', {}, ...['Time', 'BP', 'HR', 'Temp', 'SpO2'].map((h) => el('th', { scope: 'col', text: h })))),
    el('tbody', {}, ...patient.vitals.map((v) => el('tr', {}, ...[v.time, v.bp, v.hr, v.temp, v.spo2].map((x) => el('td', { text: x })))))));
}

// The session timer ticks every second, as clinical apps' inactivity timers do.
const sessionEnds = Date.now() + 15 * 60 * 1000;
setInterval(() => {
  const left = Math.max(0, Math.round((sessionEnds - Date.now()) / 1000));
  document.getElementById('session-timer').textContent = `Session ends in ${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}`;
}, 1000);

route();
