// The example settings page as a Firebase app: the Firebase JS SDK signs the user in (against
// the Auth emulator here; against Firebase Auth in production, with connectAuthEmulator left
// out), and billing-portal.js gets the token exactly as a production app gives it:
// `getIdToken: (forceRefresh) => auth.currentUser?.getIdToken(forceRefresh)`.

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
import { getBillingState, openBillingPortal } from "../billing-portal.js";

const ENDED = new Set(["canceled", "incomplete_expired"]);
const $ = (id) => document.getElementById(id);

/** `getIdToken` for billing-portal.js: the signed-in user's Firebase ID token. */
const getIdToken = (forceRefresh) => auth?.currentUser?.getIdToken(forceRefresh) ?? null;

let auth = null;

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

async function showPlan() {
  $("plan-error").hidden = true;
  if (!auth?.currentUser) return;
  $("plan-message").textContent = "Loading your plan…";
  try {
    const { subscriptions } = await getBillingState({ endpoint: config.functionUrl, getIdToken });
    const current = subscriptions.find((s) => !ENDED.has(s.status)) ?? null;
    $("subscription-id").textContent = current?.id ?? "—";
    $("plan-message").textContent = current
      ? `Subscribed (${current.status.replace(/_/g, " ")}).`
      : "No plan yet.";
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
    $("billing-error-message").textContent = error.message;
    $("billing-error-code").textContent = `${error.code} · HTTP ${error.status}`;
    $("billing-error").hidden = false;
    $("manage-billing").disabled = false;
  }
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
