// Types for billing-portal.js: open the Stripe Customer Portal through the billing-portal
// function, start a plan with Stripe Checkout, and read the user's billing state.

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
export interface BillingStateOptions
  extends Pick<BillingPortalOptions, "endpoint" | "getIdToken" | "timeoutMs" | "signal" | "fetch"> {
  /**
   * The page's URL, where Stripe Checkout's return puts `checkout_session=cs_…`; default
   * `location.href`. With one, the read confirms that Checkout Session (the new plan is in the
   * answer) and then takes the parameter out of the address bar.
   */
  pageUrl?: string;
  /**
   * Puts the page's URL without `checkout_session` in the address bar; default
   * `url => history.replaceState(history.state, "", url)`.
   */
  replaceUrl?: (url: string) => void;
}

/** Options of `startCheckout` and `createCheckoutSession`. */
export interface CheckoutOptions
  extends Pick<
    BillingPortalOptions,
    "endpoint" | "getIdToken" | "timeoutMs" | "signal" | "fetch" | "navigate"
  > {
  /** `price_…`: one of the stack's plans (`getPlans`), else 400 `price_not_allowed`. */
  price: string;
  /**
   * How many (default: the plan's `quantity.minimum`, 1); other than that only for a plan whose
   * `quantity.adjustable` is true, within its `minimum`..`maximum`, else 400 `invalid_quantity`.
   */
  quantity?: number;
  /**
   * Where Stripe Checkout sends the user back (paid: with `checkout_session=cs_…` added;
   * cancelled: as given); must be on an origin the stack allows. Default: the stack's.
   */
  returnUrl?: string;
  /** One of Stripe Checkout's locales: `"auto"`, `"en"`, `"de"`, `"fr-CA"`, … */
  locale?: string;
}

/** A Stripe Checkout Session the function started: where to send the user, and its id. */
export interface CheckoutSession {
  /** `https://checkout.stripe.com/c/pay/cs_…` */
  url: string;
  /** `cs_…`: what Stripe's return names as `checkout_session`. */
  id: string;
}

/** Options of `getPlans`: public, no token. */
export type PlansOptions = Pick<BillingPortalOptions, "endpoint" | "timeoutMs" | "signal" | "fetch">;

/** Stripe's billing intervals (a newer one may appear). */
export type PlanInterval = "day" | "week" | "month" | "year" | (string & {});

/** One plan of the stack's checkout catalog, as Stripe has it. */
export interface Plan {
  /** `price_…`: what `startCheckout` takes (ids differ per environment: never hard-code them). */
  price: string;
  /** `prod_…` */
  product: string;
  /** The product's name. */
  name: string;
  /** In the currency's smallest unit (cents), or null for a price without a unit amount. */
  unit_amount: number | null;
  /** Lower-case ISO code, e.g. `"eur"`. */
  currency: string;
  interval: PlanInterval | null;
  interval_count: number | null;
  /** Whether the user picks a quantity (seats), and between which bounds. */
  quantity: { adjustable: boolean; minimum: number; maximum: number | null };
}

/** The stack's checkout catalog, in the order the stack lists it. */
export interface Plans {
  plans: Plan[];
}

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
  /** Unix seconds: when an ended subscription ended; null (or absent, in older states) otherwise. */
  ended_at?: number | null;
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
  NOT_IN_BROWSER: "not_in_browser";
  NAVIGATION_FAILED: "navigation_failed";
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
  | "already_subscribed"
  | "checkout_session_not_found"
  | "invalid_checkout_session"
  | "invalid_request"
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

/** The query parameter Stripe Checkout returns with: `"checkout_session"`. */
export declare const CHECKOUT_SESSION_PARAM: "checkout_session";

/** Ask for a portal session and return its one-time URL, without navigating. */
export declare function createPortalSession(options: BillingPortalOptions): Promise<string>;

/** Ask for a portal session and send the browser there; resolves with the URL. */
export declare function openBillingPortal(options: BillingPortalOptions): Promise<string>;

/**
 * Read the signed-in user's subscriptions (`GET` on the function, same token and errors). From
 * the function's store only: a change made in the portal shows once Stripe's event is applied.
 * Back from Checkout (`checkout_session=cs_…` in the page's URL), it confirms that session, so
 * the new plan is in this answer, then takes the parameter out of the address bar; a session
 * that is not the caller's is dropped and their own state answered.
 */
export declare function getBillingState(options: BillingStateOptions): Promise<BillingState>;

/**
 * Ask for a Stripe Checkout Session for one of the stack's plans, without navigating. Rejects
 * with `already_subscribed` (409) for a user who has a plan: open the portal instead.
 */
export declare function createCheckoutSession(options: CheckoutOptions): Promise<CheckoutSession>;

/** Ask for a Checkout Session and send the browser to Stripe Checkout; resolves with it. */
export declare function startCheckout(options: CheckoutOptions): Promise<CheckoutSession>;

/** The stack's plans for a pricing table (`GET {endpoint}/plans`, public: no token is sent). */
export declare function getPlans(options: PlansOptions): Promise<Plans>;

/**
 * Whether `state` grants the feature `lookupKey` (its active entitlements include it). Pure;
 * false for a missing state or a state without `entitlements`.
 */
export declare function hasEntitlement(
  state: Pick<BillingState, "entitlements"> | Partial<BillingState> | null | undefined,
  lookupKey: string,
): boolean;
