// Types for billing-portal.js: open the Stripe Customer Portal through the billing-portal
// function, and read the user's billing state.

/** A portal deep link: what the portal opens on instead of its home page. */
export type PortalFlow =
  | "payment_method_update"
  | "customer_update"
  | { type: "payment_method_update" }
  | { type: "customer_update" }
  | { type: "subscription_cancel"; subscription: string; coupon?: string }
  | { type: "subscription_update"; subscription: string }
  /** Only where the stack's portal enables pausing (else 400 `flow_not_enabled`). */
  | { type: "subscription_pause"; subscription: string }
  /**
   * One item; a `price` and `quantity` the stack's portal sells (else 400 `too_many_items`,
   * `price_not_allowed` or `invalid_quantity`).
   */
  | {
      type: "subscription_update_confirm";
      subscription: string;
      items: Array<{ id: string; price?: string; quantity?: number }>;
    };

export interface BillingPortalOptions {
  /** The function's URL (the stack output), e.g. `https://…run.app`. */
  endpoint: string;
  /**
   * The signed-in user's ID token. Called with `true` once after a 401, to get a fresh token
   * (Firebase: `(force) => auth.currentUser?.getIdToken(force)`). No token (`undefined`, `null`
   * or an empty string, e.g. no signed-in user) or a throw rejects with code `not_signed_in`.
   */
  getIdToken: (
    forceRefresh: boolean,
  ) => string | null | undefined | Promise<string | null | undefined>;
  /** Where the portal sends the user back; must be on an origin the stack allows. */
  returnUrl?: string;
  /** A deep link into the portal. */
  flow?: PortalFlow;
  /** One of Stripe's portal locales: `"auto"`, `"en"`, `"de"`, `"fr-CA"`, … */
  locale?: string;
  /** Time allowed for the function to answer; default 15000 ms. */
  timeoutMs?: number;
  /** Cancels the request (the promise rejects with code `aborted`). */
  signal?: AbortSignal;
  /** The fetch to use; default `globalThis.fetch`. */
  fetch?: typeof fetch;
  /** Where to send the browser; default `url => window.location.assign(url)`. */
  navigate?: (url: string) => void;
}

/** Options of `getBillingState`: the same endpoint, token, timeout, signal and fetch. */
export type BillingStateOptions = Pick<
  BillingPortalOptions,
  "endpoint" | "getIdToken" | "timeoutMs" | "signal" | "fetch"
>;

/** Stripe's subscription statuses (a newer one may appear: compare, do not enumerate). */
export type SubscriptionStatus =
  | "active"
  | "trialing"
  | "past_due"
  | "unpaid"
  | "canceled"
  | "incomplete"
  | "incomplete_expired"
  | "paused"
  | (string & {});

/** One item of a subscription: a price (and its product) and how many. */
export interface SubscriptionItem {
  /** `si_…`: what `subscription_update_confirm` deep links name in `items[].id`. */
  id: string;
  /** `price_…`: map it to your plan by id (the stack's price ids). */
  price: string | null;
  /** `prod_…` */
  product: string | null;
  quantity: number | null;
}

/** One of the user's subscriptions, as the webhook last wrote it from Stripe. */
export interface Subscription {
  /** `sub_…`: what the subscription deep links take. */
  id: string;
  /** Check it before granting anything: ended subscriptions are listed too (`canceled`). */
  status: SubscriptionStatus;
  /** True when it ends at `current_period_end` ("cancels on <date>"). */
  cancel_at_period_end: boolean;
  /** Unix seconds: the end of the current period (the latest of the items'), or null. */
  current_period_end: number | null;
  items: SubscriptionItem[];
}

/**
 * The user's billing state: their subscriptions, newest first, and the lookup keys of their
 * active entitlements, sorted (`[]` when there are none).
 */
export interface BillingState {
  subscriptions: Subscription[];
  /** Lookup keys of the features the user's plan grants (the stack's `features`). */
  entitlements: string[];
}

/** Codes raised in the browser, beside the function's own (`invalid_token`, `rate_limited`, …). */
export declare const CLIENT_ERROR_CODES: Readonly<{
  NOT_SIGNED_IN: "not_signed_in";
  NETWORK_ERROR: "network_error";
  TIMEOUT: "timeout";
  ABORTED: "aborted";
  INVALID_RESPONSE: "invalid_response";
  INVALID_OPTIONS: "invalid_options";
}>;

export type ClientErrorCode = (typeof CLIENT_ERROR_CODES)[keyof typeof CLIENT_ERROR_CODES];

/** The function's error codes (see the error table in docs/frontend.md). */
export type FunctionErrorCode =
  | "invalid_json"
  | "unknown_field"
  | "invalid_locale"
  | "invalid_flow"
  | "coupon_not_allowed"
  | "price_not_allowed"
  | "invalid_quantity"
  | "too_many_items"
  | "flow_not_enabled"
  | "return_url_not_allowed"
  | "stripe_invalid_request"
  | "invalid_token"
  | "token_expired"
  | "origin_not_allowed"
  | "method_not_allowed"
  | "mode_mismatch"
  | "payload_too_large"
  | "unsupported_media_type"
  | "rate_limited"
  | "stripe_error"
  | "datastore_error"
  | "customer_missing"
  | "mapping_malformed"
  | "mapping_conflict"
  | "state_malformed"
  | "subscription_not_found"
  | "customer_replace_throttled"
  | "stripe_unavailable"
  | "datastore_unavailable"
  | "auth_keys_unavailable"
  | "stripe_misconfigured"
  | "internal";

export declare class BillingPortalError extends Error {
  constructor(
    message: string,
    details: { code: string; status?: number; retryAfter?: number | null; cause?: unknown },
  );
  readonly name: "BillingPortalError";
  /** Stable for programs: a FunctionErrorCode, a ClientErrorCode, or a newer function code. */
  readonly code: FunctionErrorCode | ClientErrorCode | (string & {});
  /** The HTTP status; 0 when the function gave no answer. */
  readonly status: number;
  /** Seconds to wait before retrying (`Retry-After`), when the function said. */
  readonly retryAfter: number | null;
}

/** Default time allowed for the function to answer, in milliseconds. */
export declare const DEFAULT_TIMEOUT_MS: number;

/** Ask for a portal session and return its one-time URL, without navigating. */
export declare function createPortalSession(options: BillingPortalOptions): Promise<string>;

/** Ask for a portal session and send the browser there; resolves with the URL. */
export declare function openBillingPortal(options: BillingPortalOptions): Promise<string>;

/**
 * Read the signed-in user's subscriptions (`GET` on the function, same token and errors). From
 * the function's store only: a change made in the portal shows once Stripe's event is applied.
 */
export declare function getBillingState(options: BillingStateOptions): Promise<BillingState>;

/**
 * Whether `state` grants the feature `lookupKey` (its active entitlements include it). Pure;
 * false for a missing state or a state without `entitlements`.
 */
export declare function hasEntitlement(
  state: Pick<BillingState, "entitlements"> | Partial<BillingState> | null | undefined,
  lookupKey: string,
): boolean;
