// @ts-check
// The page's identifying fields: the values a patient banner shows (name, MRN, date of
// birth, address, phone…), read when a tip is saved so that the worker can redact every
// occurrence of them before a shared tip leaves the device. Only values are read, only
// at save time, and they go to the worker alone, never to the server.

/** A field's label, lowercased, to the kind of identifier its value is (core's
 *  `redact::Kind`). Labels are matched whole, after trimming ":" and "#". */
const LABELS = new Map([
  ['name', 'name'], ['patient', 'name'], ['patient name', 'name'], ['full name', 'name'],
  ['mrn', 'mrn'], ['mr#', 'mrn'], ['mr', 'mrn'], ['medical record number', 'mrn'], ['patient id', 'mrn'],
  ['dob', 'date'], ['date of birth', 'date'], ['birth date', 'date'], ['birthdate', 'date'], ['born', 'date'],
  ['address', 'address'], ['home address', 'address'], ['street address', 'address'],
  ['phone', 'phone'], ['telephone', 'phone'], ['mobile', 'phone'], ['home phone', 'phone'], ['cell', 'phone'],
  ['ssn', 'ssn'], ['social security number', 'ssn'],
  ['email', 'email'], ['e-mail', 'email'],
  ['account', 'account'], ['account number', 'account'], ['acct', 'account'], ['fin', 'account'], ['visit', 'account'],
  ['member id', 'account'], ['insurance id', 'account'],
]);

/** The most values one page hands over, and the longest (core keeps the same limits). */
const MAX_IDENTIFIERS = 40;
const MAX_VALUE_CHARS = 200;

/** @param {string | null | undefined} label */
function kindOf(label) {
  if (!label) return undefined;
  const key = label.replace(/\s+/g, ' ').trim().replace(/[:#]+$/, '').trim().toLowerCase();
  return LABELS.get(key);
}

/** @param {Element | null | undefined} element */
function textOf(element) {
  return (element?.textContent ?? '').replace(/\s+/g, ' ').trim();
}

/**
 * Identifying values shown on the page: `dt`/`dd` pairs, table header and cell pairs
 * (`th` then `td` in a row, or a header row over data rows), `<label>` and the control it
 * labels, elements with an identifying `aria-label`, and the heading of a region labelled
 * as a patient's banner (the patient's name); then the elements of the team's own
 * identifying fields (`teamFields`, CSS selectors an admin set, shipped by the server).
 * @param {{ kind: string, selector: string }[]} [teamFields]
 * @returns {{ kind: string, value: string }[]}
 */
export function pageIdentifiers(teamFields = []) {
  /** @type {{ kind: string, value: string }[]} */
  const found = [];
  /** @param {string | undefined} kind @param {string} value */
  const add = (kind, value) => {
    if (!kind || !value || value.length > MAX_VALUE_CHARS || found.length >= MAX_IDENTIFIERS) return;
    if (!found.some((f) => f.kind === kind && f.value === value)) found.push({ kind, value });
  };
  for (const term of document.querySelectorAll('dt')) {
    const kind = kindOf(textOf(term));
    if (kind && term.nextElementSibling?.tagName === 'DD') add(kind, textOf(term.nextElementSibling));
  }
  for (const header of document.querySelectorAll('th')) {
    const kind = kindOf(textOf(header));
    if (!kind) continue;
    const row = header.parentElement;
    if (header.nextElementSibling?.tagName === 'TD') {
      add(kind, textOf(header.nextElementSibling)); // a header cell beside its value
      continue;
    }
    // A header row: the column's cells in the rows below (a table of patients).
    const column = Array.prototype.indexOf.call(row?.children ?? [], header);
    const table = header.closest('table');
    for (const dataRow of table ? Array.from(table.querySelectorAll('tbody tr')).slice(0, 50) : []) {
      add(kind, textOf(dataRow.children[column]));
    }
  }
  for (const label of document.querySelectorAll('label')) {
    const kind = kindOf(textOf(label));
    const control = label.control;
    if (kind && control instanceof HTMLInputElement) add(kind, control.value.trim());
    else if (kind && label.nextElementSibling) add(kind, textOf(label.nextElementSibling));
  }
  for (const labelled of document.querySelectorAll('[aria-label]')) {
    const label = labelled.getAttribute('aria-label');
    const kind = kindOf(label);
    if (kind) add(kind, labelled instanceof HTMLInputElement ? labelled.value.trim() : textOf(labelled));
    // A patient's banner: its first heading is the patient's name.
    if (label && /\bpatient\b/i.test(label) && /\b(banner|header|summary)\b/i.test(label)) {
      add('name', textOf(labelled.querySelector('h1, h2, h3, [role="heading"]')));
    }
  }
  // The team's fields come last so the labelled ones keep their place within the limit,
  // and a selector this browser cannot read is skipped, never fatal to the capture.
  for (const field of teamFields) {
    let matches;
    try {
      matches = document.querySelectorAll(field.selector);
    } catch {
      continue;
    }
    for (const match of Array.from(matches).slice(0, 50)) {
      add(field.kind, match instanceof HTMLInputElement ? match.value.trim() : textOf(match));
    }
  }
  return found;
}
