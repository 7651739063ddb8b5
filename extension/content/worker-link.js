// @ts-check
// The content script's one way to the worker, which makes every decision.

/** Called once when the extension was reloaded or updated under this page: this copy of
 *  the script can no longer reach it, and must stop costing the page anything. */
let onOrphaned = () => {};

/** @param {() => void} stop */
export function whenOrphaned(stop) {
  onOrphaned = stop;
}

/** Sends a request to the worker with the address the user is on now (it follows the
 *  app's own navigation; the worker accepts it only within the origin the browser
 *  recorded for this page). Never throws: a failure is an `error` answer in words.
 *  @param {{ type: string } & Record<string, any>} message
 *  @returns {Promise<{ type: string } & Record<string, any>>} */
export async function send(message) {
  try {
    const answer = await chrome.runtime.sendMessage({ ...message, url: location.href });
    return answer ?? { type: 'error', message: 'Inflow did not answer. Try again in a moment.' };
  } catch (error) {
    const gone = String(error).includes('context invalidated');
    if (gone) onOrphaned();
    return {
      type: 'error',
      message: gone ? 'Inflow was updated. Reload this page to keep using it.' : `Inflow could not be reached (${error}).`,
    };
  }
}
