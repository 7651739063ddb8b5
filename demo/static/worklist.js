// The unit worklist: a 2,000-row tracking board that rebuilds its table in place every
// 200 ms (new nodes, nearly the same text: the "waiting" column counts up), as busy
// clinical boards do. It keeps its own timer's lateness, so a benchmark can tell what an
// extension costs it: window.__worklist = { ticks, lateness: [ms late per tick] }.
// "Pause updates" holds the board still (to read or select on it); a reload resumes.
'use strict';

const ROWS = 2000;
const PERIOD_MS = 200;
const TASKS = ['Vitals due', 'Med pass: metoprolol 25 mg PO', 'Reposition (q2h)', 'Fingerstick glucose', 'IV site check', 'Pain reassessment', 'Wound care, dressing change', 'Fall-risk rounding'];
const OWNERS = ['K. Alvarez, RN', 'T. Brooks, RN', 'S. Patel, RN', 'M. Chen, PharmD'];
const NAMES = ['Jane Doe', 'Robert Lee', 'Maria Gonzalez', 'William Turner', 'Aisha Rahman', 'Thomas Nguyen'];
const body = document.getElementById('worklist-rows');
const started = performance.now();
const state = { ticks: 0, lateness: [] };
window.__worklist = state;

function cell(text) {
  const td = document.createElement('td');
  td.textContent = text;
  return td;
}

function render() {
  const minutes = Math.floor((performance.now() - started) / 60000);
  const rows = [];
  for (let i = 0; i < ROWS; i += 1) {
    const tr = document.createElement('tr');
    tr.append(
      cell(`${1 + (i % 30)}${'ABCD'[i % 4]}`),
      cell(NAMES[i % NAMES.length]),
      cell(TASKS[(i * 7) % TASKS.length]),
      cell(`${String(6 + (i % 16)).padStart(2, '0')}:${String((i * 5) % 60).padStart(2, '0')}`),
      cell(`${(i % 90) + minutes} min`),
      cell(OWNERS[i % OWNERS.length]),
    );
    rows.push(tr);
  }
  body.replaceChildren(...rows);
}

let paused = false;
const pause = document.getElementById('pause');
pause.addEventListener('click', () => {
  paused = !paused;
  pause.textContent = paused ? 'Resume updates' : 'Pause updates';
  pause.setAttribute('aria-pressed', String(paused));
});

render();
let expected = performance.now() + PERIOD_MS;
const tick = () => {
  const now = performance.now();
  state.lateness.push(now - expected);
  state.ticks += 1;
  if (!paused) render();
  expected += PERIOD_MS;
  setTimeout(tick, Math.max(0, expected - performance.now()));
};
setTimeout(tick, PERIOD_MS);
