// The example settings page: development sign-in, the plan card and the billing buttons.
// Everything billing-specific is two calls: getBillingState({endpoint, getIdToken}) for the plan,
// openBillingPortal({endpoint, getIdToken, returnUrl, flow}) for the buttons.

import config from "./config.js";
import { getBillingState, openBillingPortal } from "../billing-portal.js";
import { renderFeatures, wireFeatures } from "./features.js";

const SESSION_KEY = "billing-portal-example.session";
const LEFT_WITH_KEY = "billing-portal-example.state-before-portal";
const RETURN_MARKER = "portal";
const TOKEN_MARGIN_SECONDS = 60;
// After the portal (or the test subscription), Stripe's event reaches the webhook a moment
// later: poll GET until the state changes, at most this often and this long.
const POLL_INTERVAL_MS = 700;
const POLL_ATTEMPTS = 15;
const ENDED = new Set(["canceled", "incomplete_expired"]);

const $ = (id) => document.getElementById(id);
const buttons = () => [...document.querySelectorAll("button[data-action]")];

// ---- development sign-in (a real app uses Firebase Auth or its own OIDC provider here) ----

/** The stored development session `{sub, email, idToken}`, or null when signed out. */
function loadSession() {
  try {
    return JSON.parse(sessionStorage.getItem(SESSION_KEY)) ?? null;
  } catch {
    return null;
  }
}

function saveSession(session) {
  if (session) sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  else sessionStorage.removeItem(SESSION_KEY);
}

/** A stable user id for an email, the way an identity provider keeps one per account. */
function userIdFor(email) {
  return `dev-${email.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "")}`;
}

async function requestToken(sub, email) {
  const response = await fetch(config.issuerTokenUrl, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ sub, email }),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok || typeof data.id_token !== "string") {
    throw new Error(data?.error?.message ?? `the issuer answered ${response.status}`);
  }
  return data.id_token;
}

function secondsLeft(idToken) {
  try {
    const payload = idToken.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(payload)).exp - Date.now() / 1000;
  } catch {
    return 0;
  }
}

/** `getIdToken` for openBillingPortal: the stored token, renewed when old or when asked. */
async function getIdToken(forceRefresh) {
  const session = loadSession();
  if (!session) return null;
  if (forceRefresh || secondsLeft(session.idToken) < TOKEN_MARGIN_SECONDS) {
    session.idToken = await requestToken(session.sub, session.email);
    saveSession(session);
  }
  return session.idToken;
}

async function signIn(event) {
  event.preventDefault();
  const email = $("dev-email").value.trim();
  const error = $("sign-in-error");
  error.hidden = true;
  $("sign-in").disabled = true;
  try {
    const sub = userIdFor(email);
    saveSession({ sub, email, idToken: await requestToken(sub, email) });
  } catch (cause) {
    error.textContent = `Could not sign in with the development issuer: ${cause.message}`;
    error.hidden = false;
  } finally {
    $("sign-in").disabled = false;
    render();
  }
  refreshBillingState();
}

function signOut() {
  saveSession(null);
  billing = { state: null, error: null };
  hideError();
  render();
}

// ---- the plan: the user's billing state from GET ----

/** What the page knows: the last state read (null before the first read) and the last error. */
let billing = { state: null, error: null };
let reading = null;

/** Read the billing state now (one read at a time) and show it; returns the state or null. */
function refreshBillingState() {
  if (!loadSession()) return Promise.resolve(null);
  reading ??= getBillingState({ endpoint: config.functionUrl, getIdToken })
    .then((state) => {
      billing = { state, error: null };
      return state;
    })
    .catch((error) => {
      billing = { ...billing, error };
      return null;
    })
    .finally(() => {
      reading = null;
      render();
    });
  return reading;
}

/** Re-read until the state differs from `before` (Stripe's event has been applied), bounded. */
async function refreshUntilChanged(before) {
  $("plan-updating").hidden = false;
  try {
    for (let attempt = 0; attempt < POLL_ATTEMPTS; attempt += 1) {
      const state = await refreshBillingState();
      if (state && JSON.stringify(state) !== before) return true;
      await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
    }
    return false;
  } finally {
    $("plan-updating").hidden = true;
  }
}

/** The subscription the plan card is about: the newest that has not ended. */
function currentSubscription() {
  return billing.state?.subscriptions.find((s) => !ENDED.has(s.status)) ?? null;
}

function formatDate(seconds) {
  if (!seconds) return "the end of the period";
  return new Intl.DateTimeFormat("en-US", { dateStyle: "long" }).format(new Date(seconds * 1000));
}

function formatMoney(amount, currency) {
  return new Intl.NumberFormat("en-US", { style: "currency", currency }).format(amount / 100);
}

function renderPlan(signedIn) {
  const subscription = signedIn ? currentSubscription() : null;
  const known = signedIn && billing.state !== null;
  $("plan").hidden = !subscription;
  $("no-plan").hidden = !known || Boolean(subscription);
  $("test-subscription-control").hidden = !config.testSubscriptionUrl;
  $("plan-message").hidden = known;
  $("plan-message").textContent = signedIn ? "Loading your plan…" : "Sign in to see your plan.";
  $("plan-error").hidden = !(signedIn && billing.error);
  $("plan-error").textContent = billing.error
    ? `Could not read your plan: ${billing.error.message} (${billing.error.code})`
    : "";
  $("subscription-id").textContent = subscription?.id ?? "—";
  if (!subscription) return;
  const item = subscription.items[0] ?? {};
  const plan = config.plans?.[item.price] ?? null;
  $("plan-name").textContent = plan?.product ?? item.product ?? "Subscription";
  $("plan-amount").textContent = plan ? formatMoney(plan.amount, plan.currency) : "";
  $("plan-interval").textContent = plan?.interval ? `/${plan.interval}` : "";
  const status = $("plan-status");
  const ending = subscription.cancel_at_period_end;
  status.textContent = ending ? "Canceling" : subscription.status.replace(/_/g, " ");
  status.className = `badge ${
    ending ? "badge-warning" : subscription.status === "active" ? "badge-success" : ""
  }`;
  const when = formatDate(subscription.current_period_end);
  const price = plan ? `${formatMoney(plan.amount, plan.currency)} per ${plan.interval}` : item.price;
  $("plan-detail").textContent = `${price} · ${ending ? `cancels on ${when}` : `renews on ${when}`}`;
}

/** The local run's development control: a test subscription for the signed-in user. */
async function giveTestSubscription() {
  const button = $("test-subscription");
  button.disabled = true;
  $("plan-error").hidden = true;
  const before = JSON.stringify(billing.state);
  try {
    const response = await fetch(config.testSubscriptionUrl, {
      method: "POST",
      headers: { Authorization: `Bearer ${await getIdToken(false)}` },
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data?.error?.message ?? `HTTP ${response.status}`);
    await refreshUntilChanged(before);
  } catch (error) {
    billing = { ...billing, error: { message: error.message, code: "test_subscription" } };
    render();
  } finally {
    button.disabled = false;
  }
}

// ---- billing buttons ----

function flowFor(action) {
  if (action === "payment_method_update") return "payment_method_update";
  if (action === "subscription_cancel" || action === "subscription_update") {
    return { type: action, subscription: currentSubscription()?.id };
  }
  return undefined;
}

function returnUrl() {
  const url = new URL(config.returnUrl ?? `${location.origin}${location.pathname}`);
  url.searchParams.set(RETURN_MARKER, "returned");
  return url.href;
}

async function openPortal(button) {
  hideError();
  setBusy(button);
  // Coming back, the page polls until the state differs from this one.
  sessionStorage.setItem(LEFT_WITH_KEY, JSON.stringify(billing.state));
  try {
    await openBillingPortal({
      endpoint: config.functionUrl,
      getIdToken,
      returnUrl: returnUrl(),
      flow: flowFor(button.dataset.action),
      locale: "auto",
    });
    // The browser is leaving for the portal; the page stays busy until it is gone.
  } catch (error) {
    showError(error);
    setIdle();
  }
}

function setBusy(active) {
  for (const button of buttons()) {
    button.disabled = true;
    if (button === active) {
      button.setAttribute("aria-busy", "true");
      button.dataset.label = button.querySelector(".label").textContent;
      button.querySelector(".label").textContent = "Opening billing…";
    }
  }
  $("billing-progress").textContent = "Opening the secure billing portal…";
}

function setIdle() {
  for (const button of buttons()) {
    button.removeAttribute("aria-busy");
    if (button.dataset.label) {
      button.querySelector(".label").textContent = button.dataset.label;
      delete button.dataset.label;
    }
  }
  $("billing-progress").textContent = "";
  render();
}

function showError(error) {
  $("billing-error-message").textContent = error.message;
  $("billing-error-code").textContent = error.code
    ? `${error.code}${error.status ? ` · HTTP ${error.status}` : ""}`
    : "";
  $("billing-error").hidden = false;
}

function hideError() {
  $("billing-error").hidden = true;
}

// ---- page state ----

function render() {
  const session = loadSession();
  const signedIn = Boolean(session);
  $("signed-in-as").textContent = signedIn ? session.email : "Signed out";
  $("avatar").textContent = signedIn ? session.email[0].toUpperCase() : "?";
  $("sign-out").hidden = !signedIn;
  $("billing-email").textContent = signedIn ? session.email : "—";
  $("dev-sign-in").hidden = signedIn || !config.issuerTokenUrl;
  $("billing-hint").textContent = signedIn ? "" : "Sign in to manage billing.";
  renderPlan(signedIn);
  renderFeatures(signedIn ? billing.state : null);
  const subscription = signedIn ? currentSubscription() : null;
  for (const button of buttons()) {
    const action = button.dataset.action;
    const needsSubscription = action === "subscription_cancel" || action === "subscription_update";
    const canceling = action === "subscription_cancel" && subscription?.cancel_at_period_end;
    button.disabled = !signedIn || (needsSubscription && (!subscription || canceling));
    button.title = !needsSubscription
      ? ""
      : !subscription
        ? "No subscription yet"
        : canceling
          ? "Already cancels at the end of the period; renew in Manage billing"
          : "";
  }
}

/** Back from the portal: say so, and return the state the page left with (to poll against). */
function takeReturn() {
  const url = new URL(location.href);
  if (url.searchParams.get(RETURN_MARKER) !== "returned") return null;
  $("portal-returned").hidden = false;
  url.searchParams.delete(RETURN_MARKER);
  history.replaceState(null, "", url.pathname + url.search + url.hash);
  const before = sessionStorage.getItem(LEFT_WITH_KEY) ?? "null";
  sessionStorage.removeItem(LEFT_WITH_KEY);
  return before;
}

function start() {
  $("sign-in-form").addEventListener("submit", signIn);
  $("sign-out").addEventListener("click", signOut);
  wireFeatures();
  $("test-subscription").addEventListener("click", giveTestSubscription);
  for (const button of buttons()) button.addEventListener("click", () => openPortal(button));
  // Coming back with the Back button restores the page as it was left (busy); make it usable.
  window.addEventListener("pageshow", (event) => event.persisted && setIdle());
  // The plan may have changed elsewhere (another tab, the portal): read it again on focus.
  window.addEventListener("focus", () => refreshBillingState());
  $("environment").textContent = `Billing endpoint: ${config.functionUrl} · ${config.environment}`;
  const leftWith = takeReturn();
  render();
  if (leftWith !== null) refreshUntilChanged(leftWith);
  else refreshBillingState();
  document.body.dataset.ready = "true";
}

start();
