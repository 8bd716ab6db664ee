// billing-portal.js — open the Stripe Customer Portal from a web page, and read what the user
// pays for.
//
// A dependency-free ES module. It POSTs to the billing-portal Cloud Function with the signed-in
// user's ID token, then sends the browser to the one-time portal URL the function returns; a GET
// with the same token (`getBillingState`) answers the user's subscriptions. Every failure (an
// error answer from the function, an answer that is not JSON, a network failure, a timeout)
// becomes a `BillingPortalError` with a stable `code`, the HTTP `status` (0 when there was no
// answer) and a `message` written to be read.
//
//   import { openBillingPortal } from "./billing-portal.js";
//   button.onclick = () => openBillingPortal({
//     endpoint: "https://billing-portal-…-ew.a.run.app",   // pulumi stack output functionUrl
//     getIdToken: (forceRefresh) => getAuth().currentUser?.getIdToken(forceRefresh),
//     returnUrl: location.href,
//   }).catch((error) => showError(error.message));
//
//   const { subscriptions } = await getBillingState({ endpoint, getIdToken });

/** Default time allowed for the function to answer, in milliseconds. */
export const DEFAULT_TIMEOUT_MS = 15000;

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
  return portalUrl(await authorizedRequest(settings, "POST"));
}

/**
 * Read the signed-in user's billing state: `GET` on the function, same token, same errors.
 * Answers from the function's store only (no Stripe call, never creates a customer); a change
 * made in the portal shows a second or so later, once Stripe's event has been applied.
 *
 * @param {import("./billing-portal").BillingStateOptions} options
 * @returns {Promise<import("./billing-portal").BillingState>}
 *   `{subscriptions: [...], entitlements: ["export_csv", …]}`
 * @throws {BillingPortalError}
 */
export async function getBillingState(options) {
  const settings = checkOptions(options, "getBillingState");
  return billingState(await authorizedRequest(settings, "GET"));
}

/** The request with the user's token; once more with a refreshed token after a 401. */
async function authorizedRequest(settings, method) {
  let token = await idToken(settings.getIdToken, false);
  let response = await send(settings, token, method);
  if (response.status === 401) {
    // An expired or revoked token: refresh it once and try again, as the function's contract says.
    token = await idToken(settings.getIdToken, true);
    response = await send(settings, token, method);
  }
  return response;
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
  const url = await createPortalSession(options);
  const navigate = options.navigate ?? ((target) => globalThis.location.assign(target));
  navigate(url);
  return url;
}

function checkOptions(options, caller) {
  const problem = (message) => new BillingPortalError(message, { code: C.INVALID_OPTIONS });
  if (!options || typeof options !== "object") {
    throw problem(`${caller} needs an options object with endpoint and getIdToken.`);
  }
  const { endpoint, getIdToken, timeoutMs = DEFAULT_TIMEOUT_MS } = options;
  if (typeof endpoint !== "string" || !/^https?:\/\//i.test(endpoint)) {
    throw problem("endpoint must be the function's absolute http(s) URL.");
  }
  if (typeof getIdToken !== "function") {
    throw problem("getIdToken must be a function returning the signed-in user's ID token.");
  }
  if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) {
    throw problem("timeoutMs must be a positive number of milliseconds.");
  }
  const fetchImpl = options.fetch ?? globalThis.fetch?.bind(globalThis);
  if (typeof fetchImpl !== "function") {
    throw problem("No fetch available; pass options.fetch.");
  }
  const body = {};
  if (options.returnUrl != null) body.return_url = String(options.returnUrl);
  if (options.locale != null) body.locale = options.locale;
  if (options.flow != null) body.flow = options.flow;
  return { endpoint, getIdToken, timeoutMs, fetchImpl, body, signal: options.signal };
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

async function send(settings, token, method) {
  const cancelled =
    method === "GET" ? "Reading billing was cancelled." : "Opening billing was cancelled.";
  if (settings.signal?.aborted) {
    throw new BillingPortalError(cancelled, { code: C.ABORTED });
  }
  const { signal, cleanup, timedOut } = deadline(settings.timeoutMs, settings.signal);
  const request =
    method === "GET"
      ? { method, headers: { Authorization: `Bearer ${token}` } }
      : {
          method,
          headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
          body: JSON.stringify(settings.body),
        };
  try {
    return await settings.fetchImpl(settings.endpoint, {
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
