// Progressive enhancement only: every page works without this (conditional questions are then all shown).
import { initAll } from "/assets/nhsuk-frontend.min.js";

initAll();
