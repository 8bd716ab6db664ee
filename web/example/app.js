// The example settings page: development sign-in, and the billing buttons that open the portal.
// Everything billing-specific is one call: openBillingPortal({endpoint, getIdToken, returnUrl, flow}).

import config from "./config.js";
import { openBillingPortal } from "../billing-portal.js";

const SESSION_KEY = "billing-portal-example.session";
const RETURN_MARKER = "portal";
const TOKEN_MARGIN_SECONDS = 60;

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
}

function signOut() {
  saveSession(null);
  hideError();
  render();
}

// ---- billing buttons ----

function flowFor(action) {
  if (action === "payment_method_update") return "payment_method_update";
  if (action === "subscription_cancel") {
    return { type: "subscription_cancel", subscription: config.subscriptionId };
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
  for (const button of buttons()) {
    const needsSubscription = button.dataset.action === "subscription_cancel";
    button.disabled = !signedIn || (needsSubscription && !config.subscriptionId);
    button.title = needsSubscription && !config.subscriptionId ? "No subscription to cancel" : "";
  }
}

function showReturnNotice() {
  const url = new URL(location.href);
  if (url.searchParams.get(RETURN_MARKER) !== "returned") return;
  $("portal-returned").hidden = false;
  url.searchParams.delete(RETURN_MARKER);
  history.replaceState(null, "", url.pathname + url.search + url.hash);
}

function start() {
  $("sign-in-form").addEventListener("submit", signIn);
  $("sign-out").addEventListener("click", signOut);
  for (const button of buttons()) button.addEventListener("click", () => openPortal(button));
  // Coming back with the Back button restores the page as it was left (busy); make it usable.
  window.addEventListener("pageshow", (event) => event.persisted && setIdle());
  $("environment").textContent = `Billing endpoint: ${config.functionUrl} · ${config.environment}`;
  showReturnNotice();
  render();
  document.body.dataset.ready = "true";
}

start();
