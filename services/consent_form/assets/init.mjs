// Progressive enhancement only: every page works without this (conditional questions are then all shown).
import { initAll } from "/assets/nhsuk-frontend.min.js";

initAll();

// NHS.UK frontend 10.6.1 marks a radio or checkbox that reveals a question with aria-expanded, which ARIA 1.2
// does not allow on those roles (axe-core: aria-allowed-attr; GOV.UK Frontend 5 dropped it for this reason).
// The revealed question follows its option in reading order, so the attribute adds nothing: take it off.
const notExpandable = 'input[type="radio"][aria-expanded], input[type="checkbox"][aria-expanded]';
const strip = () => document.querySelectorAll(notExpandable).forEach((input) => input.removeAttribute("aria-expanded"));
strip();
new MutationObserver(strip).observe(document.body, { subtree: true, attributeFilter: ["aria-expanded"] });
