// The example settings page as a Firebase app: the Firebase JS SDK signs the user in (against
// the Auth emulator here; against Firebase Auth in production, with connectAuthEmulator left
// out), and billing-portal.js gets the token exactly as a production app gives it:
// `getIdToken: (forceRefresh) => auth.currentUser?.getIdToken(forceRefresh)`. A user without a
// plan chooses one from getPlans({endpoint}) and startCheckout({..., price, returnUrl}); back from
// Checkout, the first getBillingState read (once Firebase has restored the user) confirms the
// `checkout_session` of the address, so the new plan is in its answer.

import config from "./config.js";
import { initializeApp } from "firebase/app";
import {
  connectAuthEmulator,
  createUserWithEmailAndPassword,
  getAuth,
  onAuthStateChanged,
  signInWithEmailAndPassword,
  signOut,
} from "firebase/auth";
import { getBillingState, getPlans, openBillingPortal, startCheckout } from "../billing-portal.js";

const ENDED = new Set(["canceled", "incomplete_expired"]);
const $ = (id) => document.getElementById(id);

/** `getIdToken` for billing-portal.js: the signed-in user's Firebase ID token. */
const getIdToken = (forceRefresh) => auth?.currentUser?.getIdToken(forceRefresh) ?? null;

let auth = null;
/** The stack's plans (`GET /plans`, public), read once; `[]` when they could not be read. */
let plans = null;

/** This page without its query: Checkout comes back here (with `checkout_session=cs_…`). */
const thisPage = () => `${location.origin}${location.pathname}`;

function setUp() {
  const firebase = config.firebase;
  if (!firebase) return null;
  const app = initializeApp({
    apiKey: firebase.apiKey,
    authDomain: firebase.authDomain,
    projectId: firebase.projectId,
  });
  const appAuth = getAuth(app);
  connectAuthEmulator(appAuth, firebase.authEmulatorUrl);
  $("emulator-url").textContent = firebase.authEmulatorUrl;
  $("firebase-project").textContent = firebase.projectId;
  return appAuth;
}

async function withCredentials(action) {
  const error = $("sign-in-error");
  error.hidden = true;
  try {
    await action(auth, $("email").value.trim(), $("password").value);
  } catch (cause) {
    error.textContent = `Firebase said: ${cause.code ?? cause.message}`;
    error.hidden = false;
  }
}

function loadPlans() {
  plans ??= getPlans({ endpoint: config.functionUrl })
    .then((catalog) => catalog.plans)
    .catch((error) => {
      $("plans-message").textContent = `Could not read the plans: ${error.message} (${error.code})`;
      return [];
    });
  return plans;
}

/** An amount in the currency's smallest unit, with its interval: "€29.00 per month". */
function describe(plan) {
  if (plan.unit_amount == null) return plan.name;
  const format = new Intl.NumberFormat("en-US", { style: "currency", currency: plan.currency });
  const digits = format.resolvedOptions().maximumFractionDigits;
  const amount = format.format(plan.unit_amount / 10 ** digits);
  if (!plan.interval) return amount;
  const count = plan.interval_count ?? 1;
  return `${amount} ${count > 1 ? `every ${count} ${plan.interval}s` : `per ${plan.interval}`}`;
}

function planButton(plan) {
  const item = document.createElement("li");
  item.className = "plan-option";
  const button = document.createElement("button");
  button.type = "button";
  button.className = "button";
  button.dataset.checkout = plan.price;
  button.textContent = `Choose ${plan.name}, ${describe(plan)}`;
  button.addEventListener("click", () => choosePlan(button, plan.price));
  item.append(button);
  return item;
}

async function showChoosePlan(visible) {
  $("choose-plan").hidden = !visible;
  if (!visible) return;
  const catalog = await loadPlans();
  if (catalog.length) $("plans-message").hidden = true;
  else if (!$("plans-message").textContent.startsWith("Could not")) {
    $("plans-message").textContent = "No plans are on sale.";
  }
  $("plan-options").replaceChildren(...catalog.map(planButton));
}

/** Checkout for one plan; a user who has a plan already (409) gets the portal instead. */
async function choosePlan(button, price) {
  $("billing-error").hidden = true;
  for (const other of document.querySelectorAll("button[data-checkout]")) other.disabled = true;
  try {
    await startCheckout({ endpoint: config.functionUrl, getIdToken, price, returnUrl: thisPage() });
    // The browser is leaving for Checkout.
  } catch (error) {
    for (const other of document.querySelectorAll("button[data-checkout]")) other.disabled = false;
    if (error.code === "already_subscribed") return manageBilling();
    showBillingError(error);
  }
}

async function showPlan() {
  $("plan-error").hidden = true;
  if (!auth?.currentUser) return;
  $("plan-message").textContent = "Loading your plan…";
  try {
    // On the return from Checkout this read sends the address's checkout_session.
    const { subscriptions } = await getBillingState({ endpoint: config.functionUrl, getIdToken });
    const current = subscriptions.find((s) => !ENDED.has(s.status)) ?? null;
    const price = current?.items[0]?.price;
    const plan = current ? (await loadPlans()).find((p) => p.price === price) : null;
    $("subscription-id").textContent = current?.id ?? "—";
    $("plan-name").textContent = current ? (plan?.name ?? current.items[0]?.product ?? "—") : "—";
    $("plan-message").textContent = current
      ? `Subscribed (${current.status.replace(/_/g, " ")}).`
      : "No plan yet.";
    await showChoosePlan(!current);
  } catch (error) {
    $("plan-error").textContent = `Could not read your plan: ${error.message} (${error.code})`;
    $("plan-error").hidden = false;
  }
}

async function manageBilling() {
  $("billing-error").hidden = true;
  $("manage-billing").disabled = true;
  try {
    await openBillingPortal({ endpoint: config.functionUrl, getIdToken, returnUrl: location.href });
  } catch (error) {
    showBillingError(error);
    $("manage-billing").disabled = false;
  }
}

function showBillingError(error) {
  $("billing-error-message").textContent = error.message;
  $("billing-error-code").textContent = `${error.code} · HTTP ${error.status}`;
  $("billing-error").hidden = false;
}

function render(user) {
  $("signed-in-as").textContent = user ? user.email : "Signed out";
  $("avatar").textContent = user ? user.email[0].toUpperCase() : "?";
  $("sign-out").hidden = !user;
  $("firebase-sign-in").hidden = Boolean(user) || !auth;
  $("user-id").textContent = user ? user.uid : "—";
  $("manage-billing").disabled = !user;
  if (!user) {
    $("plan-message").textContent = "Sign in to see your plan.";
    $("subscription-id").textContent = "—";
    $("plan-name").textContent = "—";
    $("choose-plan").hidden = true;
  }
}

function start() {
  auth = setUp();
  $("environment").textContent = `Billing endpoint: ${config.functionUrl} · ${config.environment}`;
  if (!auth) {
    $("not-configured").hidden = false;
    render(null);
    document.body.dataset.ready = "true";
    return;
  }
  $("sign-in-form").addEventListener("submit", (event) => {
    event.preventDefault();
    withCredentials(signInWithEmailAndPassword);
  });
  $("create-account").addEventListener("click", () =>
    withCredentials(createUserWithEmailAndPassword),
  );
  $("sign-out").addEventListener("click", () => signOut(auth));
  $("manage-billing").addEventListener("click", manageBilling);
  onAuthStateChanged(auth, (user) => {
    render(user);
    showPlan();
    document.body.dataset.ready = "true";
  });
}

start();
