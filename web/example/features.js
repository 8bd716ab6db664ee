// The example page's "Features" card: which features the user's plan grants, and one demo
// feature gated by its lookup key. All it needs from billing is hasEntitlement(state, key):
// the lookup keys are the stack's `features` (Pulumi.dev.yaml), never a price id.

import { hasEntitlement } from "../billing-portal.js";

/** The demo feature: unlocked when the user's plan grants this lookup key. */
export const EXPORT_FEATURE = "export_csv";

const $ = (id) => document.getElementById(id);

/**
 * Show the state's features (null state: signed out or not read yet) and gate the demo. Until
 * the state is read the gate says so: "Locked" would flash on every load (and right after
 * Checkout) for a user whose plan grants the feature.
 */
export function renderFeatures(state, signedIn = false) {
  const known = Boolean(state);
  const keys = known ? state.entitlements ?? [] : [];
  const list = $("feature-list");
  list.replaceChildren(
    ...keys.map((key) => {
      const item = document.createElement("li");
      item.className = "badge badge-success";
      item.textContent = key;
      return item;
    }),
  );
  $("no-features").hidden = !known || keys.length > 0;
  const unlocked = hasEntitlement(state, EXPORT_FEATURE);
  const button = $("export-csv");
  button.disabled = !unlocked;
  button.dataset.locked = String(!unlocked);
  $("export-csv-lock").textContent = unlocked
    ? "Included in your plan."
    : known
      ? "Locked: your plan does not include Export to CSV."
      : signedIn
        ? "Checking your plan…"
        : "Sign in to see your features.";
  $("export-csv-done").hidden = true;
}

/** The demo feature itself: a CSV of nothing much, to show the gate opened. */
export function wireFeatures() {
  $("export-csv").addEventListener("click", () => {
    $("export-csv-done").hidden = false;
  });
}
