// billing-portal.js — open the Stripe Customer Portal from a web page, start a plan with Stripe
// Checkout, and read what the user pays for.
//
// A dependency-free ES module. It POSTs to the billing-portal Cloud Function with the signed-in
// user's ID token, then sends the browser to the one-time portal URL the function returns; a GET
// with the same token (`getBillingState`) answers the user's subscriptions. A user without a plan
// picks one of the stack's plans (`getPlans`, no token needed) and `startCheckout` sends them to
// Stripe Checkout; back on the page, `getBillingState` confirms the Checkout Session named in the
// page's URL (`checkout_session=cs_…`), so the new plan is in the very first state it answers,
// and takes the parameter out of the address bar. Every failure (an error answer from the
// function, an answer that is not JSON, a network failure, a timeout) becomes a
// `BillingPortalError` with a stable `code`, the HTTP `status` (0 when there was no answer) and a
// `message` written to be read.
//
//   import { openBillingPortal } from "./billing-portal.js";
//   button.onclick = () => openBillingPortal({
//     endpoint: "https://billing-portal-…-ew.a.run.app",   // pulumi stack output functionUrl
//     getIdToken: (forceRefresh) => getAuth().currentUser?.getIdToken(forceRefresh),
//     returnUrl: location.href,
//   }).catch((error) => showError(error.message));
//
//   const { subscriptions } = await getBillingState({ endpoint, getIdToken });
//   const { plans } = await getPlans({ endpoint });
//   await startCheckout({ endpoint, getIdToken, price: plans[0].price, returnUrl: location.href });

/** Default time allowed for the function to answer, in milliseconds. */
export const DEFAULT_TIMEOUT_MS = 15000;

/** The query parameter Stripe Checkout returns with: the Checkout Session's id. */
export const CHECKOUT_SESSION_PARAM = "checkout_session";
// Answers that mean the session named in the page's URL is not the caller's (a link copied from
// someone else, an old tab): the user's own state is read without it.
const FOREIGN_SESSION = new Set(["checkout_session_not_found", "invalid_checkout_session"]);

/**
 * Codes produced in the browser, beside the function's own error codes
 * (`invalid_token`, `return_url_not_allowed`, `rate_limited`, …; see docs/frontend.md).
 */
export const CLIENT_ERROR_CODES = Object.freeze({
  /** `getIdToken` failed or gave no token: the user is not signed in. */
  NOT_SIGNED_IN: "not_signed_in",
  /** No answer: the function is down, unreachable, or refused this origin (CORS). */
  NETWORK_ERROR: "network_error",
  /** No answer within `timeoutMs`. */
  TIMEOUT: "timeout",
  /** The caller's `signal` aborted the request. */
  ABORTED: "aborted",
  /** An answer that is not what the function sends (an HTML error page, a body without a URL). */
  INVALID_RESPONSE: "invalid_response",
  /** The options passed to this module are wrong (a programming error). */
  INVALID_OPTIONS: "invalid_options",
  /** openBillingPortal without a browser page to navigate (server rendering, a worker, Node)
   * and without `options.navigate`: use createPortalSession there. */
  NOT_IN_BROWSER: "not_in_browser",
  /** The navigation to the portal URL failed (a throwing `options.navigate`, a blocked page). */
  NAVIGATION_FAILED: "navigation_failed",
});

const C = CLIENT_ERROR_CODES;

/** An error opening the billing portal: `code` is stable for programs, `message` is for people. */
export class BillingPortalError extends Error {
  /**
   * @param {string} message what went wrong, readable
   * @param {{code: string, status?: number, retryAfter?: number | null, cause?: unknown}} details
   */
  constructor(message, { code, status = 0, retryAfter = null, cause } = {}) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "BillingPortalError";
    /** @type {string} the function's error code, or one of CLIENT_ERROR_CODES */
    this.code = code;
    /** @type {number} the HTTP status, 0 when the function gave no answer */
    this.status = status;
    /** @type {number | null} seconds to wait before retrying (from `Retry-After`), if given */
    this.retryAfter = retryAfter;
  }
}

/**
 * Ask the function for a portal session and return its one-time URL (without navigating).
 *
 * @param {import("./billing-portal").BillingPortalOptions} options
 * @returns {Promise<string>} the portal session URL
 * @throws {BillingPortalError}
 */
export async function createPortalSession(options) {
  const settings = checkOptions(options, "openBillingPortal");
  const body = jsonBody("returnUrl, locale and flow", () => {
    const fields = {};
    if (options.returnUrl != null) fields.return_url = String(options.returnUrl);
    if (options.locale != null) fields.locale = options.locale;
    if (options.flow != null) fields.flow = options.flow;
    return fields;
  });
  const request = { method: "POST", url: settings.endpoint, body, doing: "Opening billing" };
  return portalUrl(await authorizedRequest(settings, request));
}

/**
 * Read the signed-in user's billing state: `GET` on the function, same token, same errors.
 * Answers from the function's store only (no Stripe call, never creates a customer); a change
 * made in the portal shows a second or so later, once Stripe's event has been applied.
 *
 * Back from Stripe Checkout, the page's URL carries `checkout_session=cs_…`: the read sends it
 * (`GET ?checkout_session=cs_…`), the function confirms the session is the caller's and syncs
 * their state from Stripe at once, so the new plan is in this answer (no waiting for Stripe's
 * event). Once the function has confirmed it, the parameter is taken out of the address bar
 * (`history.replaceState`; the other parameters and the fragment are kept as they are); after a
 * failure (no answer, a token problem, a 5xx) it stays, so the next read confirms it. A session
 * that is not the caller's (`checkout_session_not_found`, `invalid_checkout_session`: a copied
 * link, an old tab) is taken out too, and the caller's own state read without it.
 *
 * @param {import("./billing-portal").BillingStateOptions} options
 * @returns {Promise<import("./billing-portal").BillingState>}
 *   `{subscriptions: [...], entitlements: ["export_csv", …]}`
 * @throws {BillingPortalError}
 */
export async function getBillingState(options) {
  const settings = checkOptions(options, "getBillingState");
  const pageUrl = options.pageUrl ?? globalThis.location?.href;
  const session = pageUrl == null ? null : checkoutSessionIn(String(pageUrl));
  const read = { method: "GET", url: settings.endpoint, doing: "Reading billing" };
  if (session === null) return billingState(await authorizedRequest(settings, read));
  const url = withQuery(settings.endpoint, CHECKOUT_SESSION_PARAM, session);
  const response = await authorizedRequest(settings, { ...read, url });
  const replaceUrl =
    options.replaceUrl ??
    ((target) => globalThis.history?.replaceState(globalThis.history.state, "", target));
  const settled = () => replaceUrl(withoutParam(String(pageUrl), CHECKOUT_SESSION_PARAM));
  if (response.ok) {
    const state = await billingState(response);
    settled(); // confirmed: a reload need not confirm it again
    return state;
  }
  const data = await readJson(response);
  if (FOREIGN_SESSION.has(data?.error?.code)) {
    settled(); // never the caller's: asking again would not change that
    return billingState(await authorizedRequest(settings, read));
  }
  // Any other failure (a token problem, Stripe or the store unavailable): the parameter stays,
  // so the next read confirms the session.
  throw failure(response, data);
}

/**
 * Ask the function for a Stripe Checkout Session for one of the stack's plans and return it,
 * without navigating: `{url, id}`. The price must be one the stack sells (`getPlans`), the
 * quantity within its bounds; a user who already has a plan gets `already_subscribed` (open
 * the portal instead).
 *
 * @param {import("./billing-portal").CheckoutOptions} options
 * @returns {Promise<import("./billing-portal").CheckoutSession>}
 * @throws {BillingPortalError}
 */
export async function createCheckoutSession(options) {
  const settings = checkOptions(options, "startCheckout");
  const { price, quantity } = options;
  if (typeof price !== "string" || price.trim() === "") {
    throw invalidOptions("price must be the price id of one of the stack's plans (getPlans).");
  }
  if (quantity != null && !(Number.isSafeInteger(quantity) && quantity > 0)) {
    throw invalidOptions("quantity must be a whole number of 1 or more.");
  }
  const body = jsonBody("returnUrl and locale", () => {
    const fields = { price };
    if (quantity != null) fields.quantity = quantity;
    if (options.returnUrl != null) fields.return_url = String(options.returnUrl);
    if (options.locale != null) fields.locale = options.locale;
    return fields;
  });
  const url = withPath(settings.endpoint, "checkout");
  const request = { method: "POST", url, body, doing: "Starting checkout" };
  return checkoutSession(await authorizedRequest(settings, request));
}

/**
 * Start a plan: ask for a Checkout Session (`createCheckoutSession`) and send the browser to
 * Stripe Checkout. Stripe returns to `returnUrl` (with `checkout_session=cs_…` once paid, as it
 * was when cancelled); `getBillingState` there shows the plan at once.
 *
 * @param {import("./billing-portal").CheckoutOptions} options
 * @returns {Promise<import("./billing-portal").CheckoutSession>} (the page is usually gone by then)
 * @throws {BillingPortalError}
 */
export async function startCheckout(options) {
  const navigate = navigator(options);
  const session = await createCheckoutSession(options);
  try {
    navigate(session.url);
  } catch (cause) {
    throw new BillingPortalError(`Could not open Stripe Checkout: ${describe(cause)}`, {
      code: C.NAVIGATION_FAILED,
      cause,
    });
  }
  return session;
}

/**
 * The stack's plans, for a pricing table: `GET {endpoint}/plans`. Public (no token is sent): the
 * stack's catalog as Stripe has it (names, price ids, amounts, quantity bounds), so a page never
 * hard-codes per-environment price ids.
 *
 * @param {import("./billing-portal").PlansOptions} options
 * @returns {Promise<import("./billing-portal").Plans>} `{plans: [...]}`
 * @throws {BillingPortalError}
 */
export async function getPlans(options) {
  const settings = checkOptions(options, "getPlans", { needsToken: false });
  const url = withPath(settings.endpoint, "plans");
  return plansOf(await send(settings, null, { method: "GET", url, doing: "Reading the plans" }));
}

/** The request with the user's token; once more with a refreshed token after a 401. */
async function authorizedRequest(settings, request) {
  let token = await idToken(settings.getIdToken, false);
  let response = await send(settings, token, request);
  if (response.status === 401) {
    // An expired or revoked token: refresh it once and try again, as the function's contract says.
    token = await idToken(settings.getIdToken, true);
    response = await send(settings, token, request);
  }
  return response;
}

/** The `checkout_session` of a page URL (its first), or null when it has none. */
function checkoutSessionIn(pageUrl) {
  let value;
  try {
    value = new URL(pageUrl).searchParams.get(CHECKOUT_SESSION_PARAM);
  } catch {
    return null;
  }
  return value ? value : null;
}

/** `url` with the query parameter `name` (every occurrence) removed, all else as it was. */
function withoutParam(url, name) {
  const hashAt = url.indexOf("#");
  const hash = hashAt < 0 ? "" : url.slice(hashAt);
  const beforeHash = hashAt < 0 ? url : url.slice(0, hashAt);
  const queryAt = beforeHash.indexOf("?");
  if (queryAt < 0) return url;
  const kept = beforeHash
    .slice(queryAt + 1)
    .split("&")
    .filter((part) => part !== "" && paramName(part) !== name);
  const query = kept.length ? `?${kept.join("&")}` : "";
  return beforeHash.slice(0, queryAt) + query + hash;
}

function paramName(part) {
  const raw = part.split("=", 1)[0].replace(/\+/g, " ");
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** The endpoint with `/name` after its path (a function URL may have a path of its own). */
function withPath(endpoint, name) {
  const url = new URL(endpoint);
  url.pathname = `${url.pathname.replace(/\/+$/, "")}/${name}`;
  return url.href;
}

function withQuery(endpoint, name, value) {
  const url = new URL(endpoint);
  url.searchParams.set(name, value);
  return url.href;
}

/**
 * Whether the user's billing state grants a feature: its lookup key (as declared in the stack's
 * `features`, e.g. "export_csv") is among the state's active entitlements. Pure; false for a
 * state without entitlements (or no state at all), never throws.
 *
 * @param {import("./billing-portal").BillingState | null | undefined} state
 * @param {string} lookupKey
 * @returns {boolean}
 */
export function hasEntitlement(state, lookupKey) {
  const entitlements = state?.entitlements;
  return (
    typeof lookupKey === "string" && Array.isArray(entitlements) && entitlements.includes(lookupKey)
  );
}

/**
 * Ask the function for a portal session and send the browser there.
 *
 * @param {import("./billing-portal").BillingPortalOptions} options
 * @returns {Promise<string>} the URL navigated to (the page is usually gone by then)
 * @throws {BillingPortalError}
 */
export async function openBillingPortal(options) {
  const navigate = navigator(options);
  const url = await createPortalSession(options);
  try {
    navigate(url);
  } catch (cause) {
    throw new BillingPortalError(`Could not open the billing portal: ${describe(cause)}`, {
      code: C.NAVIGATION_FAILED,
      cause,
    });
  }
  return url;
}

/** How to send the browser to the portal: `options.navigate`, else the page's location. */
function navigator(options) {
  if (typeof options?.navigate === "function") return options.navigate;
  if (options?.navigate != null) {
    throw new BillingPortalError("navigate must be a function taking the portal URL.", {
      code: C.INVALID_OPTIONS,
    });
  }
  const location = globalThis.location;
  if (typeof location?.assign !== "function") {
    throw new BillingPortalError(
      "openBillingPortal and startCheckout need a browser page to navigate; outside one (server " +
        "rendering, a worker, Node) use createPortalSession or createCheckoutSession, or pass " +
        "options.navigate.",
      { code: C.NOT_IN_BROWSER },
    );
  }
  return (target) => location.assign(target);
}

/** The JSON text of a request body from `build`; `what` could not be sent as JSON → invalid_options. */
function jsonBody(what, build) {
  try {
    return JSON.stringify(build());
  } catch (cause) {
    throw new BillingPortalError(
      `${what} must be plain values that can be sent as JSON: ${describe(cause)}`,
      { code: C.INVALID_OPTIONS, cause },
    );
  }
}

function invalidOptions(message) {
  return new BillingPortalError(message, { code: C.INVALID_OPTIONS });
}

function checkOptions(options, caller, { needsToken = true } = {}) {
  const problem = invalidOptions;
  if (!options || typeof options !== "object") {
    const needs = needsToken ? "endpoint and getIdToken" : "endpoint";
    throw problem(`${caller} needs an options object with ${needs}.`);
  }
  const { endpoint, getIdToken, timeoutMs = DEFAULT_TIMEOUT_MS } = options;
  if (typeof endpoint !== "string" || !/^https?:\/\//i.test(endpoint) || !isWebUrl(endpoint)) {
    throw problem("endpoint must be the function's absolute http(s) URL.");
  }
  if (needsToken && typeof getIdToken !== "function") {
    throw problem("getIdToken must be a function returning the signed-in user's ID token.");
  }
  if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) {
    throw problem("timeoutMs must be a positive number of milliseconds.");
  }
  const fetchImpl = options.fetch ?? globalThis.fetch?.bind(globalThis);
  if (typeof fetchImpl !== "function") {
    throw problem("No fetch available; pass options.fetch.");
  }
  return { endpoint, getIdToken, timeoutMs, fetchImpl, signal: options.signal };
}

async function idToken(getIdToken, forceRefresh) {
  let token;
  try {
    token = await getIdToken(forceRefresh);
  } catch (cause) {
    throw new BillingPortalError(`Could not get your sign-in token: ${describe(cause)}`, {
      code: C.NOT_SIGNED_IN,
      cause,
    });
  }
  if (typeof token !== "string" || token.trim() === "") {
    throw new BillingPortalError("Sign in first: there is no signed-in user to open billing for.", {
      code: C.NOT_SIGNED_IN,
    });
  }
  return token.trim();
}

/** One request: `{method, url, body?, doing}`, with the token when there is one (null: none). */
async function send(settings, token, { method, url, body, doing }) {
  const cancelled = `${doing} was cancelled.`;
  if (settings.signal?.aborted) {
    throw new BillingPortalError(cancelled, { code: C.ABORTED });
  }
  const { signal, cleanup, timedOut } = deadline(settings.timeoutMs, settings.signal);
  const headers = token === null ? {} : { Authorization: `Bearer ${token}` };
  const request =
    body === undefined
      ? { method, headers }
      : {
          method,
          headers: { ...headers, "Content-Type": "application/json" },
          body,
        };
  try {
    return await settings.fetchImpl(url, {
      ...request,
      credentials: "omit",
      cache: "no-store",
      signal,
    });
  } catch (cause) {
    if (timedOut()) {
      const seconds = Math.round(settings.timeoutMs / 100) / 10;
      throw new BillingPortalError(
        `The billing service did not answer within ${seconds} s. Please try again.`,
        { code: C.TIMEOUT, cause },
      );
    }
    if (settings.signal?.aborted) {
      throw new BillingPortalError(cancelled, { code: C.ABORTED, cause });
    }
    throw new BillingPortalError(
      "Could not reach the billing service. Check your connection and try again.",
      { code: C.NETWORK_ERROR, cause },
    );
  } finally {
    cleanup();
  }
}

/** An AbortSignal that fires after `ms` or when the caller's own signal aborts. */
function deadline(ms, outer) {
  const controller = new AbortController();
  let expired = false;
  const timer = setTimeout(() => {
    expired = true;
    controller.abort();
  }, ms);
  const forward = () => controller.abort();
  if (outer?.aborted) controller.abort();
  outer?.addEventListener?.("abort", forward, { once: true });
  return {
    signal: controller.signal,
    timedOut: () => expired,
    cleanup: () => {
      clearTimeout(timer);
      outer?.removeEventListener?.("abort", forward);
    },
  };
}

async function portalUrl(response) {
  const data = await readJson(response);
  if (!response.ok) throw failure(response, data);
  const url = data?.url;
  if (typeof url === "string" && isWebUrl(url)) return url;
  throw new BillingPortalError(
    "The billing service answered without a portal link. Please try again.",
    { code: C.INVALID_RESPONSE, status: response.status },
  );
}

async function billingState(response) {
  const data = await readJson(response);
  if (!response.ok) throw failure(response, data);
  const subscriptions = data?.subscriptions;
  // A function deployed before entitlements were kept answers none: `[]`.
  const entitlements = data?.entitlements ?? [];
  if (
    Array.isArray(subscriptions) &&
    subscriptions.every(isSubscription) &&
    Array.isArray(entitlements) &&
    entitlements.every((key) => typeof key === "string")
  ) {
    return { subscriptions, entitlements };
  }
  throw new BillingPortalError(
    "The billing service answered without a billing state. Please try again.",
    { code: C.INVALID_RESPONSE, status: response.status },
  );
}

async function checkoutSession(response) {
  const data = await readJson(response);
  if (!response.ok) throw failure(response, data);
  const { url, id } = data ?? {};
  if (typeof url === "string" && isWebUrl(url) && typeof id === "string" && id !== "") {
    return { url, id };
  }
  throw new BillingPortalError(
    "The billing service answered without a checkout link. Please try again.",
    { code: C.INVALID_RESPONSE, status: response.status },
  );
}

async function plansOf(response) {
  const data = await readJson(response);
  if (!response.ok) throw failure(response, data);
  const plans = data?.plans;
  if (Array.isArray(plans) && plans.every(isPlan)) return { plans };
  throw new BillingPortalError(
    "The billing service answered without its plans. Please try again.",
    { code: C.INVALID_RESPONSE, status: response.status },
  );
}

function isPlan(value) {
  const quantity = value?.quantity;
  return (
    value !== null &&
    typeof value === "object" &&
    typeof value.price === "string" &&
    typeof value.name === "string" &&
    (typeof value.unit_amount === "number" || value.unit_amount === null) &&
    typeof value.currency === "string" &&
    quantity !== null &&
    typeof quantity === "object" &&
    typeof quantity.adjustable === "boolean" &&
    Number.isSafeInteger(quantity.minimum) &&
    (Number.isSafeInteger(quantity.maximum) || quantity.maximum === null)
  );
}

function isSubscription(value) {
  return (
    value !== null &&
    typeof value === "object" &&
    typeof value.id === "string" &&
    typeof value.status === "string" &&
    Array.isArray(value.items)
  );
}

/** The BillingPortalError for an answer that is not 2xx. */
function failure(response, data) {
  const status = response.status;
  const retryAfter = retryAfterSeconds(response.headers?.get?.("Retry-After"));
  const error = data?.error;
  if (error && typeof error.code === "string" && typeof error.message === "string") {
    return new BillingPortalError(error.message, { code: error.code, status, retryAfter });
  }
  const reason = response.statusText ? ` (${status} ${response.statusText})` : ` (${status})`;
  return new BillingPortalError(
    `The billing service failed${reason} without saying why. Please try again later.`,
    { code: C.INVALID_RESPONSE, status, retryAfter },
  );
}

async function readJson(response) {
  const type = response.headers?.get?.("Content-Type") ?? "";
  if (!/\bjson\b/i.test(type)) return null;
  try {
    return await response.json();
  } catch {
    return null;
  }
}

function isWebUrl(value) {
  try {
    const { protocol } = new URL(value);
    return protocol === "https:" || protocol === "http:";
  } catch {
    return false;
  }
}

function retryAfterSeconds(header) {
  if (!header) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds;
  const date = Date.parse(header);
  return Number.isNaN(date) ? null : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

function describe(cause) {
  return cause instanceof Error ? cause.message : String(cause);
}
