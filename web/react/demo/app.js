// The demo app: a Firebase-like sign-in that restores the user only after a delay (as Firebase's
// onAuthStateChanged does on a fresh page load; here the example page's development session),
// and a plan card using useBillingState as docs/frontend.md shows it.

import { createElement as h, StrictMode } from "react";
import config from "../../example/config.js";
import { useBillingState } from "../useBillingState.js";

const SESSION_KEY = "billing-portal-example.session"; // the example page's development sign-in
const AUTH_DELAY_MS = Number(new URLSearchParams(location.search).get("authDelay") ?? 800);
// What the page went through, for the browser test.
const seen = (window.__seen = { statuses: [], errors: [], tokenRequests: [] });

/** Like Firebase Auth: `currentUser` is null until the stored session is restored. */
const auth = { currentUser: null, restored: false, listeners: [] };

setTimeout(() => {
  auth.restored = true;
  const session = JSON.parse(sessionStorage.getItem(SESSION_KEY) ?? "null");
  auth.currentUser = session && { uid: session.sub, getIdToken: async () => session.idToken };
  for (const listener of auth.listeners) listener(auth.currentUser);
}, AUTH_DELAY_MS);

// Defined once, outside the component (the hook re-subscribes when these change).
const billing = {
  endpoint: config.functionUrl,
  getIdToken: (force) => {
    seen.tokenRequests.push(auth.currentUser ? "user" : "no user");
    return auth.currentUser?.getIdToken(force);
  },
  onAuthChange: (callback) => {
    auth.listeners.push(callback);
    if (auth.restored) callback(auth.currentUser); // as Firebase: at once when it knows
    return () => {
      auth.listeners = auth.listeners.filter((l) => l !== callback);
    };
  },
};

function describe({ current, ended }) {
  if (current) return `${current.id} ${current.cancel_at_period_end ? "cancels" : current.status}`;
  if (ended) return `ended ${ended.id}`;
  return "no plan";
}

function PlanCard() {
  const billingState = useBillingState(billing);
  const { status, updating, error, openPortal, refresh } = billingState;
  if (seen.statuses.at(-1) !== status) seen.statuses.push(status);
  if (error && !seen.errors.includes(error.code)) seen.errors.push(error.code);
  return h(
    "section",
    null,
    h("h1", null, "useBillingState"),
    h("p", { id: "status" }, status),
    h("p", { id: "plan" }, status === "ready" ? describe(billingState) : ""),
    h("p", { id: "updating", hidden: !updating }, "Updating…"),
    h("p", { id: "error", hidden: !error }, error ? `${error.code}: ${error.message}` : ""),
    h("button", { id: "manage", onClick: () => openPortal() }, "Manage billing"),
    h("button", { id: "refresh", onClick: () => refresh() }, "Refresh"),
  );
}

window.ReactDOM.createRoot(document.getElementById("root")).render(
  h(StrictMode, null, h(PlanCard)),
);
