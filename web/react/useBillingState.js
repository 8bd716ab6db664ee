// useBillingState — the signed-in user's billing state in a React app, and a way to open the
// portal that comes back to it. Plain JavaScript (no JSX), so it runs as it is in any React 18+
// app with a bundler (Vite, Next.js, …); copy it next to billing-portal.js.
//
//   import { getAuth, onAuthStateChanged } from "firebase/auth";
//   import { useBillingState } from "./useBillingState.js";
//
//   const billing = {
//     endpoint: import.meta.env.VITE_BILLING_PORTAL_URL,   // pulumi stack output functionUrl
//     getIdToken: (force) => getAuth().currentUser?.getIdToken(force),
//     onAuthChange: (callback) => onAuthStateChanged(getAuth(), callback),
//   };
//   // Define `billing` once, outside the component: the hook re-subscribes when it changes.
//
//   function PlanBadge() {
//     const { status, current, ended, updating, error } = useBillingState(billing);
//     …
//   }
//
// What it does that a plain "GET on mount" does not:
// - it waits for the sign-in state. Firebase restores the user asynchronously: on a fresh page
//   load (the portal sends the browser back to a fresh page) `currentUser` is null until
//   `onAuthStateChanged` first fires, so a read on mount fails with `not_signed_in`. The hook
//   reads only once `onAuthChange` has reported a user (status `waiting_for_sign_in` until then,
//   `signed_out` without one);
// - after a return from the portal (`openPortal` marks the return URL) it re-reads until the
//   state differs from the one it left with, because Stripe's event reaches the webhook a moment
//   after the return. It shows `updating` for at most UPDATING_FOR_MS, then keeps checking
//   quietly until POLL_OFFSETS_MS ends: a return that changed nothing is not "Updating…" for long;
// - it reads again when the window regains focus (a change made in another tab).
//
// Every failure is the module's `BillingPortalError` (`error.code`, `error.message`).

import { useCallback, useEffect, useRef, useState } from "react";

import { getBillingState, openBillingPortal } from "../billing-portal.js";

/** When to read again after a return from the portal, in ms after the return (the first is 0). */
export const POLL_OFFSETS_MS = Object.freeze([0, 400, 800, 1200, 1800, 2600, 3500, 5000, 7000]);
/** How long a return shows `updating` when nothing has changed yet. */
export const UPDATING_FOR_MS = 3000;
/** The query parameter `openPortal` adds to the return URL, and the hook takes away. */
export const RETURN_MARKER = "billing_portal";
const LEFT_WITH_KEY = "billing-portal.state-before-portal";
const ENDED = new Set(["canceled", "incomplete_expired"]);

/** The subscription a plan card is about: the newest that has not ended (null: none). */
export function currentSubscription(state) {
  return state?.subscriptions.find((s) => !ENDED.has(s.status)) ?? null;
}

/** The newest ended subscription when no subscription is current ("your plan ended"). */
export function endedSubscription(state) {
  if (!state || currentSubscription(state)) return null;
  return state.subscriptions.find((s) => ENDED.has(s.status)) ?? null;
}

/** `href` with the return marker: where the portal sends the browser back to. */
export function markedReturnUrl(href) {
  const url = new URL(href);
  url.searchParams.set(RETURN_MARKER, "returned");
  return url.href;
}

/** On a page load: whether it is a return from the portal; takes the marker out of the URL and
 * returns the state the page left with (JSON text), or null when it is not a return. */
export function takeReturn(win = globalThis.window) {
  if (!win?.location) return null;
  const url = new URL(win.location.href);
  if (url.searchParams.get(RETURN_MARKER) !== "returned") return null;
  url.searchParams.delete(RETURN_MARKER);
  win.history?.replaceState?.(win.history.state, "", url.pathname + url.search + url.hash);
  const before = win.sessionStorage?.getItem(LEFT_WITH_KEY) ?? "null";
  win.sessionStorage?.removeItem(LEFT_WITH_KEY);
  return before;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// The return is taken out of the URL once per page load, and kept here until a hook has polled
// for it: every hook instance of the page (and React's strict-mode second render, which starts
// with fresh refs) sees the same return.
let pendingReturn;
function pageReturn() {
  if (pendingReturn === undefined) pendingReturn = takeReturn();
  return pendingReturn;
}

/**
 * The signed-in user's billing state.
 *
 * @param {{endpoint: string, getIdToken: (force: boolean) => Promise<string|null|undefined>,
 *   onAuthChange: (callback: (user: unknown) => void) => (() => void)}} options
 * @returns {{status: "waiting_for_sign_in"|"signed_out"|"loading"|"ready"|"error",
 *   state: {subscriptions: object[]} | null, current: object | null, ended: object | null,
 *   updating: boolean, error: Error | null, refresh: () => Promise<unknown>,
 *   openPortal: (flow?: unknown) => Promise<void>}}
 */
export function useBillingState({ endpoint, getIdToken, onAuthChange }) {
  const [auth, setAuth] = useState("waiting"); // waiting | signed_in | signed_out
  const [state, setState] = useState(null);
  const [error, setError] = useState(null);
  const [updating, setUpdating] = useState(false);
  const stateRef = useRef(null);

  useEffect(
    () =>
      onAuthChange((user) => {
        setAuth(user ? "signed_in" : "signed_out");
      }),
    [onAuthChange],
  );

  const read = useCallback(async () => {
    try {
      const next = await getBillingState({ endpoint, getIdToken });
      stateRef.current = next;
      setState(next);
      setError(null);
      return next;
    } catch (caught) {
      setError(caught);
      return null;
    }
  }, [endpoint, getIdToken]);

  useEffect(() => {
    if (auth !== "signed_in") {
      if (auth === "signed_out") {
        stateRef.current = null;
        setState(null);
        setError(null);
      }
      return undefined;
    }
    let stopped = false;
    let quiet;
    const before = pageReturn();
    (async () => {
      if (before === null) {
        await read();
        return;
      }
      // Back from the portal: read until the state differs from the one the page left with.
      setUpdating(true);
      const started = Date.now();
      quiet = setTimeout(() => setUpdating(false), UPDATING_FOR_MS); // then keep checking quietly
      try {
        for (const offset of POLL_OFFSETS_MS) {
          await sleep(Math.max(0, started + offset - Date.now()));
          if (stopped) return;
          const next = await read();
          if (next && JSON.stringify(next) !== before) break;
        }
        pendingReturn = null; // polled for: a component mounted later reads once, as usual
      } finally {
        clearTimeout(quiet);
        if (!stopped) setUpdating(false);
      }
    })();
    const onFocus = () => read();
    window.addEventListener("focus", onFocus);
    return () => {
      stopped = true;
      clearTimeout(quiet);
      window.removeEventListener("focus", onFocus);
    };
  }, [auth, read]);

  const openPortal = useCallback(
    async (flow) => {
      // Coming back, the hook compares with this state (the return URL carries the marker).
      window.sessionStorage.setItem(LEFT_WITH_KEY, JSON.stringify(stateRef.current));
      await openBillingPortal({
        endpoint,
        getIdToken,
        returnUrl: markedReturnUrl(window.location.href),
        flow,
      });
    },
    [endpoint, getIdToken],
  );

  let status = "ready";
  if (auth === "waiting") status = "waiting_for_sign_in";
  else if (auth === "signed_out") status = "signed_out";
  else if (state === null) status = error ? "error" : "loading";
  return {
    status,
    state,
    current: currentSubscription(state),
    ended: endedSubscription(state),
    updating,
    error,
    refresh: read,
    openPortal,
  };
}
