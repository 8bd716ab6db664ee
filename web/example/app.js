// The example settings page: development sign-in, the plan card, "Choose a plan" and the billing
// buttons. Everything billing-specific is four calls: getBillingState({endpoint, getIdToken}) for
// the plan (back from Checkout it confirms the session, so the new plan is in its first answer),
// getPlans({endpoint}) for the plans a user without one may choose, startCheckout({endpoint,
// getIdToken, price, quantity, returnUrl}) to choose one, openBillingPortal({endpoint,
// getIdToken, returnUrl, flow}) for the buttons.

import config from "./config.js";
import {
  getBillingState,
  getPlans,
  openBillingPortal,
  startCheckout,
} from "../billing-portal.js";
import { renderFeatures, wireFeatures } from "./features.js";

const SESSION_KEY = "billing-portal-example.session";
const LEFT_WITH_KEY = "billing-portal-example.state-before-portal";
// The page's own return parameter: `?billing=portal` or `?billing=checkout` (Checkout adds
// `checkout_session=cs_…` once paid, which getBillingState reads and then removes).
const RETURN_MARKER = "billing";
const TOKEN_MARGIN_SECONDS = 60;
// After the portal, Stripe's event reaches the webhook a moment later: poll GET until the state
// changes, at most this often and this long. (Back from Checkout, no poll: the first read
// confirms the session.)
const POLL_INTERVAL_MS = 700;
const POLL_ATTEMPTS = 15;
// "Updating…" shows for at most this long; the reads go on quietly after it (a return that
// changed nothing should not say "Updating…" for the whole ten seconds).
const UPDATING_FOR_MS = 3000;
// The "Welcome back" notice goes away by itself after this long (or when dismissed).
const RETURNED_NOTICE_MS = 8000;
const ENDED = new Set(["canceled", "incomplete_expired"]);

const $ = (id) => document.getElementById(id);
const buttons = () => [...document.querySelectorAll("button[data-action]")];
const checkoutButtons = () => [...document.querySelectorAll("button[data-checkout]")];

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
  $("portal-returned").hidden = true;
  checkoutReturn = null;
  billing = { state: null, error: null };
  hideError();
  render();
}

// ---- the plan: the user's billing state from GET ----

/** Back from Checkout: "paid" (with a session to confirm), "cancelled", or null. */
let checkoutReturn = null;

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
  const quiet = setTimeout(() => ($("plan-updating").hidden = true), UPDATING_FOR_MS);
  try {
    for (let attempt = 0; attempt < POLL_ATTEMPTS; attempt += 1) {
      const state = await refreshBillingState();
      if (state && JSON.stringify(state) !== before) return true;
      await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
    }
    return false;
  } finally {
    clearTimeout(quiet);
    $("plan-updating").hidden = true;
  }
}

// ---- the stack's plans: GET /plans (public), for "Choose a plan" and to name the user's plan ----

/** The catalog: `plans` (null until read) and the error of the last read. */
let catalog = { plans: null, error: null };

async function loadPlans() {
  try {
    const { plans } = await getPlans({ endpoint: config.functionUrl });
    catalog = { plans, error: null };
  } catch (error) {
    catalog = { plans: catalog.plans, error };
  }
  render();
}

/** What the page shows for a price: the catalog's plan, else config.plans, else null. */
function planOf(price) {
  const plan = catalog.plans?.find((candidate) => candidate.price === price);
  if (plan) {
    return {
      name: plan.name,
      amount: plan.unit_amount,
      currency: plan.currency,
      interval: plan.interval,
      intervalCount: plan.interval_count ?? 1,
    };
  }
  const known = config.plans?.[price];
  if (!known) return null;
  return {
    name: known.product,
    amount: known.amount,
    currency: known.currency,
    interval: known.interval,
    intervalCount: 1,
  };
}

/** "€29.00 per month", "€290.00 every 2 years", or the amount alone. */
function describePrice(plan) {
  const amount = plan.amount == null ? "" : formatMoney(plan.amount, plan.currency);
  if (!plan.interval) return amount;
  const count = plan.intervalCount;
  const every = count > 1 ? `every ${count} ${plan.interval}s` : `per ${plan.interval}`;
  return amount ? `${amount} ${every}` : every;
}

function renderChoosePlan(visible) {
  const list = $("plan-options");
  const message = $("plans-message");
  if (!visible) return;
  if (catalog.error && !catalog.plans) {
    const { message: reason, code } = catalog.error;
    message.textContent = `Could not read the plans: ${reason} (${code})`;
    message.hidden = false;
    return;
  }
  if (!catalog.plans) {
    message.textContent = "Loading plans…";
    message.hidden = false;
    return;
  }
  message.hidden = catalog.plans.length > 0;
  message.textContent = catalog.plans.length ? "" : "No plans are on sale.";
  if (list.dataset.rendered === "true") return; // keep what the user typed in a quantity
  list.replaceChildren(...catalog.plans.map(planOption));
  list.dataset.rendered = "true";
}

/** One plan to choose: its name, price, a quantity where the stack lets the user pick one. */
function planOption(plan) {
  const item = document.createElement("li");
  item.className = "plan-option";
  item.dataset.price = plan.price;
  const about = document.createElement("div");
  const name = document.createElement("div");
  name.className = "plan-name";
  name.textContent = plan.name;
  const price = document.createElement("div");
  price.className = "muted plan-option-price";
  price.textContent = describePrice(planOf(plan.price));
  about.append(name, price);
  const buy = document.createElement("div");
  buy.className = "plan-option-buy";
  if (plan.quantity.adjustable) {
    const label = document.createElement("label");
    const input = document.createElement("input");
    input.type = "number";
    input.name = "quantity";
    input.min = String(plan.quantity.minimum);
    if (plan.quantity.maximum !== null) input.max = String(plan.quantity.maximum);
    input.step = "1";
    input.value = String(Math.max(1, plan.quantity.minimum));
    label.append("Quantity ", input);
    buy.append(label);
  }
  const button = document.createElement("button");
  button.type = "button";
  button.className = "button button-primary";
  button.dataset.checkout = plan.price;
  const spinner = document.createElement("span");
  spinner.className = "spinner";
  spinner.setAttribute("aria-hidden", "true");
  const text = document.createElement("span");
  text.className = "label";
  text.textContent = "Choose";
  button.append(spinner, text);
  button.setAttribute("aria-label", `Choose ${plan.name}, ${price.textContent}`);
  button.addEventListener("click", () => choosePlan(button, plan, item));
  buy.append(button);
  item.append(about, buy);
  return item;
}

/** Checkout for one plan; a user who has a plan already (409) gets the portal instead. */
async function choosePlan(button, plan, item) {
  hideError();
  setBusy(button, "Opening checkout…", "Opening secure checkout…");
  const input = item.querySelector("input[name=quantity]");
  try {
    await startCheckout({
      endpoint: config.functionUrl,
      getIdToken,
      price: plan.price,
      quantity: input ? Number(input.value) : undefined,
      returnUrl: returnUrl("checkout"),
      locale: "auto",
    });
    // The browser is leaving for Checkout; the page stays busy until it is gone.
  } catch (error) {
    if (error.code === "already_subscribed") {
      setIdle();
      await openPortal($("manage-billing"));
      return;
    }
    showError(error);
    setIdle();
  }
}

/** The subscription the plan card is about: the newest that has not ended. */
function currentSubscription() {
  return billing.state?.subscriptions.find((s) => !ENDED.has(s.status)) ?? null;
}

/** With no current subscription, the newest one that ended ("your plan ended on …"). */
function endedSubscription() {
  if (currentSubscription()) return null;
  return billing.state?.subscriptions.find((s) => ENDED.has(s.status)) ?? null;
}

function formatDate(seconds) {
  if (!seconds) return "the end of the period";
  return new Intl.DateTimeFormat("en-US", { dateStyle: "long" }).format(new Date(seconds * 1000));
}

/** An amount in the currency's smallest unit (cents; yen) as money. */
function formatMoney(amount, currency) {
  const format = new Intl.NumberFormat("en-US", { style: "currency", currency });
  return format.format(amount / 10 ** format.resolvedOptions().maximumFractionDigits);
}

function renderPlan(signedIn) {
  const subscription = signedIn ? currentSubscription() : null;
  const known = signedIn && billing.state !== null;
  $("plan").hidden = !subscription;
  $("no-plan").hidden = !known || Boolean(subscription);
  renderChoosePlan(known && !subscription);
  // "Your plan is ready" only once the state shows it (the return's read confirmed it).
  $("checkout-returned").hidden = !(checkoutReturn === "paid" && subscription);
  $("checkout-cancelled").hidden = checkoutReturn !== "cancelled";
  $("plan-message").hidden = known;
  $("plan-message").textContent = signedIn ? "Loading your plan…" : "Sign in to see your plan.";
  $("plan-error").hidden = !(signedIn && billing.error);
  $("plan-error").textContent = billing.error
    ? `Could not read your plan: ${billing.error.message} (${billing.error.code})`
    : "";
  $("subscription-id").textContent = subscription?.id ?? "—";
  const ended = signedIn && known ? endedSubscription() : null;
  $("plan-ended").hidden = !ended;
  $("no-plan-text").hidden = Boolean(ended);
  if (ended) {
    const endedPrice = ended.items[0]?.price;
    const name = planOf(endedPrice)?.name ?? ended.items[0]?.product ?? "Your";
    const when = ended.ended_at ? ` on ${formatDate(ended.ended_at)}` : "";
    $("plan-ended").textContent = `${name} plan ended${when}. You have no active plan.`;
  }
  if (!subscription) return;
  const item = subscription.items[0] ?? {};
  const plan = planOf(item.price);
  $("plan-name").textContent = plan?.name ?? item.product ?? "Subscription";
  $("plan-amount").textContent =
    plan && plan.amount != null ? formatMoney(plan.amount, plan.currency) : "";
  $("plan-interval").textContent = plan?.interval ? `/${plan.interval}` : "";
  const status = $("plan-status");
  const ending = subscription.cancel_at_period_end;
  status.textContent = ending ? "Canceling" : subscription.status.replace(/_/g, " ");
  status.className = `badge ${
    ending ? "badge-warning" : subscription.status === "active" ? "badge-success" : ""
  }`;
  const when = formatDate(subscription.current_period_end);
  const price = plan ? describePrice(plan) : item.price;
  const quantity = item.quantity > 1 ? ` · ${item.quantity} seats` : "";
  $("plan-detail").textContent =
    `${price}${quantity} · ${ending ? `cancels on ${when}` : `renews on ${when}`}`;
}

// ---- billing buttons ----

function flowFor(action) {
  if (action === "payment_method_update") return "payment_method_update";
  if (action === "subscription_cancel" || action === "subscription_update") {
    return { type: action, subscription: currentSubscription()?.id };
  }
  return undefined;
}

/** Where the portal or Checkout sends the user back: this page, marked with where from. */
function returnUrl(from) {
  const url = new URL(config.returnUrl ?? `${location.origin}${location.pathname}`);
  url.searchParams.set(RETURN_MARKER, from);
  return url.href;
}

async function openPortal(button) {
  hideError();
  setBusy(button, "Opening billing…", "Opening the secure billing portal…");
  // Coming back, the page polls until the state differs from this one.
  sessionStorage.setItem(LEFT_WITH_KEY, JSON.stringify(billing.state));
  try {
    await openBillingPortal({
      endpoint: config.functionUrl,
      getIdToken,
      returnUrl: returnUrl("portal"),
      flow: flowFor(button.dataset.action),
      locale: "auto",
    });
    // The browser is leaving for the portal; the page stays busy until it is gone.
  } catch (error) {
    showError(error);
    setIdle();
  }
}

/** Every billing button disabled; `active` says what it is doing. */
function setBusy(active, label, progress) {
  for (const button of [...buttons(), ...checkoutButtons()]) {
    button.disabled = true;
    if (button === active) {
      button.setAttribute("aria-busy", "true");
      button.dataset.label = button.querySelector(".label").textContent;
      button.querySelector(".label").textContent = label;
    }
  }
  $("billing-progress").textContent = progress;
}

function setIdle() {
  for (const button of [...buttons(), ...checkoutButtons()]) {
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
  renderFeatures(signedIn ? billing.state : null, signedIn);
  const subscription = signedIn ? currentSubscription() : null;
  const reasons = new Set();
  for (const button of checkoutButtons()) button.disabled = !signedIn || Boolean(subscription);
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
    // A disabled button says why, on the page (a title shows only on hover, never on touch).
    if (signedIn && button.disabled && button.title) {
      button.setAttribute("aria-describedby", "disabled-reason");
      reasons.add(
        button.title === "No subscription yet"
          ? "Change plan and Cancel subscription need a subscription."
          : `Cancel subscription: your plan already cancels on ${formatDate(
              subscription?.current_period_end,
            )}; to keep it, renew in Manage billing.`,
      );
    } else {
      button.removeAttribute("aria-describedby");
    }
  }
  $("disabled-reason").textContent = [...reasons].join(" ");
}

/**
 * Back from the portal or Checkout: say so, take the page's marker out of the address bar, and
 * return the state the page left the portal with (to poll against), else null. Back from
 * Checkout, `checkout_session` stays for getBillingState: it confirms the session on the first
 * read (the plan is in that answer) and then removes it; without it, Checkout was cancelled.
 */
function takeReturn() {
  const url = new URL(location.href);
  const from = url.searchParams.get(RETURN_MARKER);
  if (from !== "portal" && from !== "checkout") return null;
  url.searchParams.delete(RETURN_MARKER);
  history.replaceState(history.state, "", url.pathname + url.search + url.hash);
  if (from === "checkout") {
    checkoutReturn = url.searchParams.has("checkout_session") ? "paid" : "cancelled";
    return null;
  }
  $("portal-returned").hidden = false;
  setTimeout(() => ($("portal-returned").hidden = true), RETURNED_NOTICE_MS);
  const before = sessionStorage.getItem(LEFT_WITH_KEY) ?? "null";
  sessionStorage.removeItem(LEFT_WITH_KEY);
  return before;
}

function start() {
  $("sign-in-form").addEventListener("submit", signIn);
  $("sign-out").addEventListener("click", signOut);
  $("portal-returned-close").addEventListener("click", () => ($("portal-returned").hidden = true));
  wireFeatures();
  for (const button of buttons()) button.addEventListener("click", () => openPortal(button));
  // Coming back with the Back button restores the page as it was left (busy); make it usable.
  window.addEventListener("pageshow", (event) => event.persisted && setIdle());
  // The plan may have changed elsewhere (another tab, the portal): read it again on focus.
  window.addEventListener("focus", () => refreshBillingState());
  $("environment").textContent = `Billing endpoint: ${config.functionUrl} · ${config.environment}`;
  const leftWith = takeReturn();
  render();
  loadPlans();
  if (leftWith !== null) refreshUntilChanged(leftWith);
  else refreshBillingState();
  document.body.dataset.ready = "true";
}

start();
