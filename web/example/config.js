// Where the example page finds the function and the development sign-in issuer.
//
// `make run` (local/run) serves its own version of this file with the ports it chose, so the
// values here are only the defaults, used when web/ is served some other way. For a deployed
// stack, set functionUrl to the stack's `functionUrl` output and replace the development
// sign-in with your real one (see docs/local.md).
export default {
  /** The billing-portal function (POST opens the portal, GET reads the billing state,
   * GET /plans lists the plans, POST /checkout starts one). */
  functionUrl: "http://127.0.0.1:8080/",
  /** The local development issuer's token endpoint; null hides the development sign-in. */
  issuerTokenUrl: "http://127.0.0.1:9919/_issuer/token",
  /** Where the portal and Checkout return to; null means this page. */
  returnUrl: null,
  /** Optional plan names and prices by Stripe price id, for the plan card when a price is not in
   * the function's GET /plans (the local run fills in the stack's declared prices); a price known
   * to neither shows as its id. */
  plans: {},
  /** firebase.html's Firebase app against the Auth emulator: {projectId, apiKey, authDomain,
   * authEmulatorUrl}; the local run sets it with --firebase-auth-emulator. null: not configured. */
  firebase: null,
  /** Shown in the page footer: what this page is talking to. */
  environment: "local run (defaults)",
};
