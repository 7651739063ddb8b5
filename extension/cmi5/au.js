// @ts-check
// The script of Inflow's cmi5 course (see core/src/cmi5.rs): it shows the course's steps
// one at a time, and, when an LMS launched the page, speaks cmi5 to the LMS's record store
// through the cmi5 client library: initialized on opening, completed when the learner
// reaches the last step (in the LMS's Normal mode only), terminated on Finish. Opened
// without an LMS, it is a reading course and reports nothing.
//
// Bundled with its library into dist/cmi5-au.js by `cargo xtask build`; the package takes
// that bundle as its au.js.
import Cmi5 from '@xapi/cmi5';

const steps = /** @type {HTMLElement[]} */ ([...document.querySelectorAll('section.step')]);
const nav = /** @type {HTMLElement} */ (document.querySelector('nav.steps'));
const back = /** @type {HTMLButtonElement} */ (document.getElementById('back'));
const next = /** @type {HTMLButtonElement} */ (document.getElementById('next'));
const finish = /** @type {HTMLButtonElement} */ (document.getElementById('finish'));
const record = /** @type {HTMLElement} */ (document.getElementById('record'));

/** What the learner is told of the record store, in words. @param {string} text @param {boolean} [problem] */
function say(text, problem = false) {
  record.textContent = text;
  record.classList.toggle('problem', problem);
}

/** The LMS's session, once initialized; null when no LMS launched the page or it failed.
 *  @type {Promise<Cmi5 | null>} */
const session = Cmi5.isCmiAvailable
  ? (async () => {
      const cmi5 = new Cmi5();
      try {
        await cmi5.initialize();
        say('Your progress is recorded by your learning system.');
        return cmi5;
      } catch (error) {
        say(`Your learning system could not be reached, so this visit is not recorded (${reason(error)}).`, true);
        return null;
      }
    })()
  : Promise.resolve(null);

/** @param {unknown} error */
function reason(error) {
  const status = /** @type {any} */ (error)?.response?.status;
  return status ? `it answered ${status}` : String(/** @type {any} */ (error)?.message ?? error);
}

let completed = null; // the completion, once asked for: sent once, however often the end is reached
let terminated = false;

/** Completed, once, when the LMS's mode counts it (Browse and Review do not). */
function complete() {
  completed ??= session.then(async (cmi5) => {
    if (!cmi5 || cmi5.getLaunchData().launchMode !== 'Normal') return;
    try {
      await cmi5.complete();
      say('Completed: your learning system has it.');
    } catch (error) {
      say(`Your completion could not be recorded (${reason(error)}).`, true);
    }
  });
  return completed;
}

async function end() {
  if (terminated) return;
  terminated = true;
  finish.disabled = true;
  await complete();
  const cmi5 = await session;
  if (!cmi5) {
    say('You have read every step.');
    return;
  }
  try {
    await cmi5.terminate();
  } catch (error) {
    say(`Your learning system did not hear that you finished (${reason(error)}).`, true);
    return;
  }
  const returnUrl = cmi5.getLaunchData().returnURL;
  if (returnUrl) location.assign(returnUrl);
  else say('Finished. You can close this window.');
}

let at = 0;
/** Shows step `index` alone and puts the focus on it. @param {number} index @param {boolean} focus */
function show(index, focus) {
  at = Math.max(0, Math.min(index, steps.length - 1));
  steps.forEach((step, i) => (step.hidden = i !== at));
  back.disabled = at === 0;
  next.hidden = at === steps.length - 1;
  finish.hidden = at !== steps.length - 1;
  if (focus) {
    steps[at].tabIndex = -1;
    steps[at].focus();
  }
  if (at === steps.length - 1) complete();
}

if (steps.length > 0) {
  nav.hidden = false;
  back.addEventListener('click', () => show(at - 1, true));
  next.addEventListener('click', () => show(at + 1, true));
  finish.addEventListener('click', () => end());
  show(0, false);
} else {
  complete();
}
