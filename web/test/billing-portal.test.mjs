// Specification of web/billing-portal.js, run with Node's built-in runner: `node --test web/test/`.
// (pytest runs it too: tests/browser/test_module_spec.py.) fetch is a stand-in per test.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  BillingPortalError,
  createPortalSession,
  getBillingState,
  hasEntitlement,
  openBillingPortal,
} from "../billing-portal.js";

const ENDPOINT = "http://127.0.0.1:8080/";
const PORTAL_URL = "https://billing.stripe.com/p/session/test_123";

function json(status, body, headers = {}) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

/** A fetch that answers each call with the next response (or throws it if it is an Error). */
function scriptedFetch(...answers) {
  const calls = [];
  const fetchImpl = async (url, init) => {
    calls.push({ url, init, body: init.body ? JSON.parse(init.body) : undefined });
    const answer = answers[Math.min(calls.length - 1, answers.length - 1)];
    if (answer instanceof Error) throw answer;
    return typeof answer === "function" ? answer(init) : answer;
  };
  fetchImpl.calls = calls;
  return fetchImpl;
}

function options(overrides = {}) {
  return {
    endpoint: ENDPOINT,
    getIdToken: async () => "token-1",
    fetch: scriptedFetch(json(200, { url: PORTAL_URL })),
    navigate: () => {},
    ...overrides,
  };
}

async function rejection(promise) {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail("expected the promise to reject with a BillingPortalError");
}

describe("a successful request", () => {
  test("navigates to the portal URL the function returned", async () => {
    const visited = [];
    const url = await openBillingPortal(options({ navigate: (target) => visited.push(target) }));
    assert.equal(url, PORTAL_URL);
    assert.deepEqual(visited, [PORTAL_URL], "navigate must be called once with the portal URL");
  });

  test("POSTs to the endpoint with the ID token as a bearer token", async () => {
    const fetchImpl = scriptedFetch(json(200, { url: PORTAL_URL }));
    await createPortalSession(options({ fetch: fetchImpl }));
    const [{ url, init }] = fetchImpl.calls;
    assert.equal(url, ENDPOINT);
    assert.equal(init.method, "POST");
    assert.equal(init.headers.Authorization, "Bearer token-1");
    assert.equal(init.headers["Content-Type"], "application/json");
    assert.equal(init.credentials, "omit", "cookies must never be sent to the function");
  });

  test("sends returnUrl, locale and flow as the contract's body fields", async () => {
    const fetchImpl = scriptedFetch(json(200, { url: PORTAL_URL }));
    const flow = { type: "subscription_cancel", subscription: "sub_1" };
    await createPortalSession(
      options({ fetch: fetchImpl, returnUrl: "http://127.0.0.1:5173/", locale: "de", flow }),
    );
    assert.deepEqual(fetchImpl.calls[0].body, {
      return_url: "http://127.0.0.1:5173/",
      locale: "de",
      flow,
    });
  });

  test("sends an empty object when no optional field is given", async () => {
    const fetchImpl = scriptedFetch(json(200, { url: PORTAL_URL }));
    await createPortalSession(options({ fetch: fetchImpl }));
    assert.deepEqual(fetchImpl.calls[0].body, {});
  });

  test("createPortalSession does not navigate", async () => {
    let navigated = false;
    await createPortalSession(options({ navigate: () => (navigated = true) }));
    assert.equal(navigated, false);
  });
});

describe("an expired token", () => {
  test("is refreshed once and the request retried", async () => {
    const forced = [];
    const fetchImpl = scriptedFetch(
      json(401, { error: { code: "token_expired", message: "The ID token has expired." } }),
      json(200, { url: PORTAL_URL }),
    );
    const getIdToken = async (force) => {
      forced.push(force);
      return force ? "token-2" : "token-1";
    };
    const url = await createPortalSession(options({ fetch: fetchImpl, getIdToken }));
    assert.equal(url, PORTAL_URL);
    assert.deepEqual(forced, [false, true], "getIdToken(true) must be asked for a fresh token");
    assert.equal(fetchImpl.calls[1].init.headers.Authorization, "Bearer token-2");
  });

  test("still refused after the refresh is reported with the function's code", async () => {
    const answer = json(401, { error: { code: "invalid_token", message: "Bad signature." } });
    const fetchImpl = scriptedFetch(answer, answer.clone());
    const error = await rejection(createPortalSession(options({ fetch: fetchImpl })));
    assert.equal(error.code, "invalid_token");
    assert.equal(error.status, 401);
    assert.equal(fetchImpl.calls.length, 2, "exactly one retry");
  });
});

describe("an error answer from the function", () => {
  test("becomes a BillingPortalError with the function's code, status and message", async () => {
    const fetchImpl = scriptedFetch(
      json(400, {
        error: { code: "return_url_not_allowed", message: "return_url must be on an allowed origin." },
      }),
    );
    const error = await rejection(createPortalSession(options({ fetch: fetchImpl })));
    assert.ok(error instanceof BillingPortalError, "must be a BillingPortalError");
    assert.equal(error.name, "BillingPortalError");
    assert.equal(error.code, "return_url_not_allowed");
    assert.equal(error.status, 400);
    assert.equal(error.message, "return_url must be on an allowed origin.");
  });

  test("carries Retry-After in seconds", async () => {
    const fetchImpl = scriptedFetch(
      json(429, { error: { code: "rate_limited", message: "Too many requests." } }, {
        "Retry-After": "7",
      }),
    );
    const error = await rejection(createPortalSession(options({ fetch: fetchImpl })));
    assert.equal(error.code, "rate_limited");
    assert.equal(error.retryAfter, 7);
  });

  test("does not navigate", async () => {
    let navigated = false;
    const fetchImpl = scriptedFetch(json(503, { error: { code: "stripe_unavailable", message: "x" } }));
    await rejection(
      openBillingPortal(options({ fetch: fetchImpl, navigate: () => (navigated = true) })),
    );
    assert.equal(navigated, false);
  });
});

describe("an answer that is not the function's", () => {
  test("an HTML error page becomes invalid_response with the status", async () => {
    const fetchImpl = scriptedFetch(
      new Response("<html>Bad Gateway</html>", {
        status: 502,
        statusText: "Bad Gateway",
        headers: { "Content-Type": "text/html" },
      }),
    );
    const error = await rejection(createPortalSession(options({ fetch: fetchImpl })));
    assert.equal(error.code, "invalid_response");
    assert.equal(error.status, 502);
    assert.match(error.message, /502 Bad Gateway/);
  });

  test("malformed JSON becomes invalid_response", async () => {
    const fetchImpl = scriptedFetch(
      new Response("{not json", { status: 500, headers: { "Content-Type": "application/json" } }),
    );
    const error = await rejection(createPortalSession(options({ fetch: fetchImpl })));
    assert.equal(error.code, "invalid_response");
    assert.equal(error.status, 500);
  });

  test("a 200 without a URL becomes invalid_response", async () => {
    const fetchImpl = scriptedFetch(json(200, { nothing: true }));
    const error = await rejection(createPortalSession(options({ fetch: fetchImpl })));
    assert.equal(error.code, "invalid_response");
  });

  test("a URL that is not http(s) is never navigated to", async () => {
    let navigated = false;
    const fetchImpl = scriptedFetch(json(200, { url: "javascript:alert(1)" }));
    const error = await rejection(
      openBillingPortal(options({ fetch: fetchImpl, navigate: () => (navigated = true) })),
    );
    assert.equal(error.code, "invalid_response");
    assert.equal(navigated, false);
  });
});

/** Like fetch on a server that never answers: rejects only when the request is aborted. */
function hang(init) {
  return new Promise((_, reject) => {
    const abort = () => reject(new DOMException("The operation was aborted.", "AbortError"));
    if (init.signal.aborted) abort();
    init.signal.addEventListener("abort", abort);
  });
}

describe("no answer", () => {
  test("a network failure becomes network_error with status 0", async () => {
    const fetchImpl = scriptedFetch(new TypeError("Failed to fetch"));
    const error = await rejection(createPortalSession(options({ fetch: fetchImpl })));
    assert.equal(error.code, "network_error");
    assert.equal(error.status, 0);
    assert.match(error.message, /Could not reach the billing service/);
    assert.ok(error.cause instanceof TypeError, "the original error is kept as cause");
  });

  test("no answer within timeoutMs becomes timeout", async () => {
    const error = await rejection(
      createPortalSession(options({ fetch: scriptedFetch(hang), timeoutMs: 20 })),
    );
    assert.equal(error.code, "timeout");
    assert.equal(error.status, 0);
  });

  test("the caller's signal aborts the request as aborted", async () => {
    const controller = new AbortController();
    const fetchImpl = scriptedFetch(hang);
    const pending = createPortalSession(options({ fetch: fetchImpl, signal: controller.signal }));
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(fetchImpl.calls.length, 1, "the request is in flight");
    controller.abort();
    const error = await rejection(pending);
    assert.equal(error.code, "aborted");
  });
});

describe("before any request", () => {
  test("a missing token becomes not_signed_in and nothing is sent", async () => {
    const fetchImpl = scriptedFetch(json(200, { url: PORTAL_URL }));
    const error = await rejection(
      createPortalSession(options({ fetch: fetchImpl, getIdToken: async () => null })),
    );
    assert.equal(error.code, "not_signed_in");
    assert.equal(fetchImpl.calls.length, 0);
  });

  test("a failing getIdToken becomes not_signed_in with its reason", async () => {
    const getIdToken = async () => {
      throw new Error("user signed out");
    };
    const error = await rejection(createPortalSession(options({ getIdToken })));
    assert.equal(error.code, "not_signed_in");
    assert.match(error.message, /user signed out/);
  });

  test("a relative endpoint is refused as invalid_options", async () => {
    const error = await rejection(createPortalSession(options({ endpoint: "/portal" })));
    assert.equal(error.code, "invalid_options");
  });
});

describe("getBillingState", () => {
  const SUBSCRIPTION = {
    id: "sub_1",
    status: "active",
    cancel_at_period_end: true,
    current_period_end: 1767225600,
    items: [{ id: "si_1", price: "price_1", product: "prod_1", quantity: 1 }],
  };

  test("GETs the endpoint with the bearer token, no body; answers the subscriptions", async () => {
    const fetchImpl = scriptedFetch(
      json(200, { subscriptions: [SUBSCRIPTION], entitlements: ["export_csv", "seats"] }),
    );
    const state = await getBillingState(options({ fetch: fetchImpl }));
    assert.deepEqual(state, {
      subscriptions: [SUBSCRIPTION],
      entitlements: ["export_csv", "seats"],
    });
    const [{ url, init }] = fetchImpl.calls;
    assert.equal(url, ENDPOINT);
    assert.equal(init.method, "GET");
    assert.equal(init.headers.Authorization, "Bearer token-1");
    assert.equal(init.body, undefined);
    assert.equal(init.credentials, "omit");
    assert.equal(init.cache, "no-store", "a returning page must see the new state");
  });

  test("an empty list is a valid state (no plan yet)", async () => {
    const fetchImpl = scriptedFetch(json(200, { subscriptions: [], entitlements: [] }));
    assert.deepEqual(await getBillingState(options({ fetch: fetchImpl })), {
      subscriptions: [],
      entitlements: [],
    });
  });

  test("an answer without entitlements (a function deployed before them) has none", async () => {
    const fetchImpl = scriptedFetch(json(200, { subscriptions: [] }));
    assert.deepEqual(await getBillingState(options({ fetch: fetchImpl })), {
      subscriptions: [],
      entitlements: [],
    });
  });

  test("an expired token is refreshed once and the request retried", async () => {
    const tokens = [];
    const getIdToken = async (force) => {
      tokens.push(force);
      return force ? "token-2" : "token-1";
    };
    const fetchImpl = scriptedFetch(
      json(401, { error: { code: "token_expired", message: "expired" } }),
      json(200, { subscriptions: [] }),
    );
    await getBillingState(options({ fetch: fetchImpl, getIdToken }));
    assert.deepEqual(tokens, [false, true]);
    assert.equal(fetchImpl.calls[1].init.headers.Authorization, "Bearer token-2");
  });

  test("the function's error becomes a BillingPortalError with its code and status", async () => {
    const fetchImpl = scriptedFetch(
      json(503, { error: { code: "datastore_unavailable", message: "Try again." } }, {
        "Retry-After": "5",
      }),
    );
    const error = await rejection(getBillingState(options({ fetch: fetchImpl })));
    assert.ok(error instanceof BillingPortalError);
    assert.equal(error.code, "datastore_unavailable");
    assert.equal(error.status, 503);
    assert.equal(error.retryAfter, 5);
  });

  test("a 200 that is not a billing state becomes invalid_response", async () => {
    const bodies = [
      { url: PORTAL_URL },
      { subscriptions: [{ id: 1 }] },
      { subscriptions: {} },
      { subscriptions: [], entitlements: "export_csv" },
      { subscriptions: [], entitlements: [7] },
    ];
    for (const body of bodies) {
      const fetchImpl = scriptedFetch(json(200, body));
      const error = await rejection(getBillingState(options({ fetch: fetchImpl })));
      assert.equal(error.code, "invalid_response", JSON.stringify(body));
    }
  });

  test("a network failure becomes network_error; no token becomes not_signed_in", async () => {
    const down = await rejection(
      getBillingState(options({ fetch: scriptedFetch(new TypeError("Failed to fetch")) })),
    );
    assert.equal(down.code, "network_error");
    const fetchImpl = scriptedFetch(json(200, { subscriptions: [] }));
    const signedOut = await rejection(
      getBillingState(options({ fetch: fetchImpl, getIdToken: async () => "" })),
    );
    assert.equal(signedOut.code, "not_signed_in");
    assert.equal(fetchImpl.calls.length, 0);
  });

  test("a wrong options object is invalid_options naming getBillingState", async () => {
    const error = await rejection(getBillingState(null));
    assert.equal(error.code, "invalid_options");
    assert.match(error.message, /getBillingState/);
  });

  test("the caller's signal aborts the read as aborted", async () => {
    const controller = new AbortController();
    controller.abort();
    const error = await rejection(getBillingState(options({ signal: controller.signal })));
    assert.equal(error.code, "aborted");
    assert.match(error.message, /Reading billing/);
  });
});

describe("every failure is a BillingPortalError with a code", () => {
  test("openBillingPortal outside a browser (no location, no navigate) is not_in_browser", async () => {
    assert.equal(globalThis.location, undefined, "this runs under Node, without a location");
    const { navigate, ...withoutNavigate } = options();
    await assert.rejects(openBillingPortal(withoutNavigate), (error) => {
      assert.ok(error instanceof BillingPortalError, `not a BillingPortalError: ${error}`);
      assert.equal(error.code, "not_in_browser");
      assert.match(error.message, /navigate/);
      return true;
    });
  });

  test("a navigate that throws becomes navigation_failed with its reason", async () => {
    const failing = () => {
      throw new TypeError("blocked by the page");
    };
    await assert.rejects(openBillingPortal(options({ navigate: failing })), (error) => {
      assert.ok(error instanceof BillingPortalError);
      assert.equal(error.code, "navigation_failed");
      assert.match(error.message, /blocked by the page/);
      return true;
    });
  });

  test("a flow that cannot be sent as JSON is invalid_options, before any request", async () => {
    const fetchImpl = scriptedFetch(json(200, { url: PORTAL_URL }));
    const cyclic = { type: "subscription_cancel" };
    cyclic.self = cyclic;
    await assert.rejects(
      createPortalSession(options({ fetch: fetchImpl, flow: cyclic })),
      (error) => error instanceof BillingPortalError && error.code === "invalid_options",
    );
    assert.equal(fetchImpl.calls.length, 0);
  });

  test("a returnUrl that cannot be made text is invalid_options", async () => {
    await assert.rejects(
      createPortalSession(
        options({
          returnUrl: {
            toString() {
              throw new Error("no text");
            },
          },
        }),
      ),
      (error) => error instanceof BillingPortalError && error.code === "invalid_options",
    );
  });
});

describe("hasEntitlement", () => {
  test("is true only for a lookup key among the state's entitlements", () => {
    const state = { subscriptions: [], entitlements: ["export_csv", "seats"] };
    assert.equal(hasEntitlement(state, "export_csv"), true);
    assert.equal(hasEntitlement(state, "sso"), false);
    assert.equal(hasEntitlement(state, "Export_CSV"), false, "lookup keys are exact");
  });

  test("is false, never throws, for a missing state or field or a key that is not a string", () => {
    for (const state of [undefined, null, {}, { subscriptions: [] }, { entitlements: "seats" }]) {
      assert.equal(hasEntitlement(state, "seats"), false, JSON.stringify(state));
    }
    assert.equal(hasEntitlement({ entitlements: ["seats"] }, undefined), false);
    assert.equal(hasEntitlement({ entitlements: ["1"] }, 1), false);
  });
});
