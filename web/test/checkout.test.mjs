// Specification of web/billing-portal.js's plan start: getPlans, startCheckout and the return from
// Checkout handled by getBillingState. Node's built-in runner: `node --test web/test/`.

import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";

import {
  BillingPortalError,
  CHECKOUT_SESSION_PARAM,
  createCheckoutSession,
  getBillingState,
  getPlans,
  startCheckout,
} from "../billing-portal.js";

const ENDPOINT = "http://127.0.0.1:8080/";
const CHECKOUT_URL = "https://checkout.stripe.com/c/pay/cs_test_1";
const SESSION = { url: CHECKOUT_URL, id: "cs_test_1" };
const PLAN = {
  price: "price_team",
  product: "prod_team",
  name: "Acme Team",
  unit_amount: 2900,
  currency: "eur",
  interval: "month",
  interval_count: 1,
  quantity: { adjustable: true, minimum: 1, maximum: 25 },
};
const SUBSCRIPTION = {
  id: "sub_1",
  status: "active",
  cancel_at_period_end: false,
  current_period_end: 1767225600,
  items: [{ id: "si_1", price: "price_team", product: "prod_team", quantity: 3 }],
};

function json(status, body, headers = {}) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

function error(status, code) {
  return json(status, { error: { code, message: `${code} message` } });
}

/** A fetch that answers each call with the next response (or throws it if it is an Error). */
function scriptedFetch(...answers) {
  const calls = [];
  const fetchImpl = async (url, init) => {
    calls.push({ url, init, body: init.body ? JSON.parse(init.body) : undefined });
    const answer = answers[Math.min(calls.length - 1, answers.length - 1)];
    if (answer instanceof Error) throw answer;
    return answer.clone();
  };
  fetchImpl.calls = calls;
  return fetchImpl;
}

async function rejection(promise) {
  try {
    await promise;
  } catch (caught) {
    assert.ok(caught instanceof BillingPortalError, `not a BillingPortalError: ${caught}`);
    return caught;
  }
  assert.fail("expected the promise to reject with a BillingPortalError");
}

function checkout(overrides = {}) {
  return {
    endpoint: ENDPOINT,
    getIdToken: async () => "token-1",
    price: "price_team",
    fetch: scriptedFetch(json(200, SESSION)),
    navigate: () => {},
    ...overrides,
  };
}

describe("startCheckout", () => {
  test("POSTs {endpoint}/checkout with the token and the contract's fields, then navigates", async () => {
    const visited = [];
    const fetchImpl = scriptedFetch(json(200, SESSION));
    const session = await startCheckout(
      checkout({
        fetch: fetchImpl,
        quantity: 3,
        returnUrl: "http://127.0.0.1:5173/billing?tab=plan",
        locale: "de",
        navigate: (url) => visited.push(url),
      }),
    );
    assert.deepEqual(session, SESSION);
    assert.deepEqual(visited, [CHECKOUT_URL]);
    const [{ url, init, body }] = fetchImpl.calls;
    assert.equal(url, "http://127.0.0.1:8080/checkout");
    assert.equal(init.method, "POST");
    assert.equal(init.headers.Authorization, "Bearer token-1");
    assert.equal(init.headers["Content-Type"], "application/json");
    assert.equal(init.credentials, "omit");
    assert.deepEqual(body, {
      price: "price_team",
      quantity: 3,
      return_url: "http://127.0.0.1:5173/billing?tab=plan",
      locale: "de",
    });
  });

  test("sends only the price when nothing else is given", async () => {
    const fetchImpl = scriptedFetch(json(200, SESSION));
    await createCheckoutSession(checkout({ fetch: fetchImpl }));
    assert.deepEqual(fetchImpl.calls[0].body, { price: "price_team" });
  });

  test("keeps the path of a function URL that has one", async () => {
    for (const endpoint of [
      "https://europe-west1-acme.cloudfunctions.net/billing-portal-dev",
      "https://europe-west1-acme.cloudfunctions.net/billing-portal-dev/",
    ]) {
      const fetchImpl = scriptedFetch(json(200, SESSION));
      await createCheckoutSession(checkout({ endpoint, fetch: fetchImpl }));
      assert.equal(
        fetchImpl.calls[0].url,
        "https://europe-west1-acme.cloudfunctions.net/billing-portal-dev/checkout",
      );
    }
  });

  test("createCheckoutSession answers the session without navigating", async () => {
    const visited = [];
    const session = await createCheckoutSession(checkout({ navigate: (u) => visited.push(u) }));
    assert.deepEqual(session, SESSION);
    assert.deepEqual(visited, []);
  });

  for (const [status, code] of [
    [409, "already_subscribed"],
    [400, "price_not_allowed"],
    [400, "invalid_quantity"],
    [400, "return_url_not_allowed"],
  ]) {
    test(`${status} ${code} becomes a BillingPortalError with that code; no navigation`, async () => {
      const visited = [];
      const failed = await rejection(
        startCheckout(
          checkout({ fetch: scriptedFetch(error(status, code)), navigate: (u) => visited.push(u) }),
        ),
      );
      assert.equal(failed.code, code);
      assert.equal(failed.status, status);
      assert.equal(failed.message, `${code} message`);
      assert.deepEqual(visited, []);
    });
  }

  test("an expired token is refreshed once and the checkout retried", async () => {
    const forced = [];
    const fetchImpl = scriptedFetch(error(401, "token_expired"), json(200, SESSION));
    await createCheckoutSession(
      checkout({
        fetch: fetchImpl,
        getIdToken: async (force) => {
          forced.push(force);
          return force ? "token-2" : "token-1";
        },
      }),
    );
    assert.deepEqual(forced, [false, true]);
    assert.equal(fetchImpl.calls[1].init.headers.Authorization, "Bearer token-2");
    assert.deepEqual(fetchImpl.calls[1].body, { price: "price_team" });
  });

  test("a missing price or a quantity that is not a whole number is refused before any request", async () => {
    for (const wrong of [
      { price: undefined },
      { price: "" },
      { price: 42 },
      { quantity: 0 },
      { quantity: 1.5 },
      { quantity: "2" },
      { quantity: -1 },
    ]) {
      const fetchImpl = scriptedFetch(json(200, SESSION));
      const failed = await rejection(createCheckoutSession(checkout({ fetch: fetchImpl, ...wrong })));
      assert.equal(failed.code, "invalid_options", JSON.stringify(wrong));
      assert.equal(fetchImpl.calls.length, 0, JSON.stringify(wrong));
    }
  });

  test("an answer without a usable link is invalid_response and never navigated to", async () => {
    for (const body of [
      { url: CHECKOUT_URL },
      { id: "cs_1" },
      { url: "javascript:alert(1)", id: "cs_1" },
      { url: "data:text/html,hi", id: "cs_1" },
      { url: CHECKOUT_URL, id: "" },
    ]) {
      const visited = [];
      const failed = await rejection(
        startCheckout(checkout({ fetch: scriptedFetch(json(200, body)), navigate: (u) => visited.push(u) })),
      );
      assert.equal(failed.code, "invalid_response", JSON.stringify(body));
      assert.deepEqual(visited, []);
    }
  });

  test("no signed-in user is not_signed_in and nothing is sent", async () => {
    const fetchImpl = scriptedFetch(json(200, SESSION));
    const failed = await rejection(
      startCheckout(checkout({ fetch: fetchImpl, getIdToken: async () => null })),
    );
    assert.equal(failed.code, "not_signed_in");
    assert.equal(fetchImpl.calls.length, 0);
  });

  test("the caller's signal aborts it as aborted, saying what was cancelled", async () => {
    const controller = new AbortController();
    controller.abort();
    const failed = await rejection(startCheckout(checkout({ signal: controller.signal })));
    assert.equal(failed.code, "aborted");
    assert.match(failed.message, /Starting checkout was cancelled/);
  });
});

describe("getPlans", () => {
  test("GETs {endpoint}/plans with no token and answers the plans", async () => {
    const fetchImpl = scriptedFetch(json(200, { plans: [PLAN] }));
    let asked = false;
    const plans = await getPlans({
      endpoint: ENDPOINT,
      fetch: fetchImpl,
      getIdToken: async () => {
        asked = true;
        return "token-1";
      },
    });
    assert.deepEqual(plans, { plans: [PLAN] });
    const [{ url, init }] = fetchImpl.calls;
    assert.equal(url, "http://127.0.0.1:8080/plans");
    assert.equal(init.method, "GET");
    assert.equal(init.headers.Authorization, undefined, "the catalog is public: no token sent");
    assert.equal(init.body, undefined);
    assert.equal(asked, false);
  });

  test("needs no getIdToken", async () => {
    const unbounded = { ...PLAN, quantity: { adjustable: true, minimum: 2, maximum: null } };
    const fetchImpl = scriptedFetch(json(200, { plans: [unbounded] }));
    assert.deepEqual(await getPlans({ endpoint: ENDPOINT, fetch: fetchImpl }), {
      plans: [unbounded],
    });
  });

  test("an answer that is not a catalog is invalid_response", async () => {
    for (const body of [
      { plans: {} },
      { plans: [{ ...PLAN, price: 1 }] },
      { plans: [{ ...PLAN, quantity: null }] },
      { plans: [{ ...PLAN, quantity: { adjustable: "yes", minimum: 1, maximum: 1 } }] },
      { subscriptions: [] },
    ]) {
      const failed = await rejection(
        getPlans({ endpoint: ENDPOINT, fetch: scriptedFetch(json(200, body)) }),
      );
      assert.equal(failed.code, "invalid_response", JSON.stringify(body));
    }
  });

  test("the function's error keeps its code and status", async () => {
    const failed = await rejection(
      getPlans({ endpoint: ENDPOINT, fetch: scriptedFetch(error(503, "stripe_unavailable")) }),
    );
    assert.equal(failed.code, "stripe_unavailable");
    assert.equal(failed.status, 503);
  });

  test("a wrong options object is invalid_options naming getPlans", async () => {
    const failed = await rejection(getPlans({ endpoint: "/plans" }));
    assert.equal(failed.code, "invalid_options");
    assert.match((await rejection(getPlans(undefined))).message, /getPlans/);
  });
});

describe("getBillingState back from Checkout", () => {
  const PAGE = "http://127.0.0.1:5173/account?tab=billing&checkout_session=cs_test_1&x=a%20b#plan";
  const CLEAN = "http://127.0.0.1:5173/account?tab=billing&x=a%20b#plan";

  function reading(fetchImpl, pageUrl = PAGE) {
    const replaced = [];
    const options = {
      endpoint: ENDPOINT,
      getIdToken: async () => "token-1",
      fetch: fetchImpl,
      pageUrl,
      replaceUrl: (url) => replaced.push({ url, afterCalls: fetchImpl.calls.length }),
    };
    return { options, replaced };
  }

  test("sends the page's checkout_session, answers the synced state, then clears it from the URL", async () => {
    const synced = { subscriptions: [SUBSCRIPTION], entitlements: ["seats"] };
    const fetchImpl = scriptedFetch(json(200, synced));
    const { options, replaced } = reading(fetchImpl);
    const state = await getBillingState(options);
    assert.deepEqual(state, synced);
    assert.equal(fetchImpl.calls.length, 1, "one read: the plan is in the first answer");
    assert.equal(fetchImpl.calls[0].url, "http://127.0.0.1:8080/?checkout_session=cs_test_1");
    assert.equal(fetchImpl.calls[0].init.headers.Authorization, "Bearer token-1");
    assert.deepEqual(replaced, [{ url: CLEAN, afterCalls: 1 }]);
  });

  test("keeps every other parameter and the fragment exactly; drops a lone ? ", async () => {
    const cases = [
      ["http://h/p?checkout_session=cs_1", "http://h/p"],
      ["http://h/p?checkout_session=cs_1#top", "http://h/p#top"],
      ["http://h/p?a=1&checkout_session=cs_1&checkout_session=cs_2&b=%2F", "http://h/p?a=1&b=%2F"],
      ["http://h/p?checkout%5Fsession=cs_1&q=x+y", "http://h/p?q=x+y"],
      ["http://h/p?checkout_sessions=keep&checkout_session=cs_1", "http://h/p?checkout_sessions=keep"],
    ];
    for (const [page, clean] of cases) {
      const fetchImpl = scriptedFetch(json(200, { subscriptions: [] }));
      const { options, replaced } = reading(fetchImpl, page);
      await getBillingState(options);
      assert.deepEqual(replaced.map((r) => r.url), [clean], page);
    }
  });

  test("the parameter is sent encoded, whatever it holds", async () => {
    const fetchImpl = scriptedFetch(json(200, { subscriptions: [] }));
    const { options } = reading(fetchImpl, "http://h/p?checkout_session=cs_1%26admin%3Dtrue");
    await getBillingState(options);
    const sent = new URL(fetchImpl.calls[0].url);
    assert.deepEqual([...sent.searchParams], [[CHECKOUT_SESSION_PARAM, "cs_1&admin=true"]]);
  });

  for (const [status, code] of [
    [404, "checkout_session_not_found"],
    [400, "invalid_checkout_session"],
  ]) {
    test(`a session that is not the caller's (${code}) is dropped and their own state read`, async () => {
      const own = { subscriptions: [], entitlements: [] };
      const fetchImpl = scriptedFetch(error(status, code), json(200, own));
      const { options, replaced } = reading(fetchImpl);
      assert.deepEqual(await getBillingState(options), own);
      assert.deepEqual(
        fetchImpl.calls.map((call) => call.url),
        ["http://127.0.0.1:8080/?checkout_session=cs_test_1", ENDPOINT],
      );
      assert.deepEqual(replaced.map((r) => r.url), [CLEAN]);
    });
  }

  test("after a failure the parameter stays, so the next read confirms the session", async () => {
    for (const answer of [error(503, "stripe_unavailable"), new TypeError("Failed to fetch")]) {
      const fetchImpl = scriptedFetch(answer);
      const { options, replaced } = reading(fetchImpl);
      const failed = await rejection(getBillingState(options));
      assert.ok(["stripe_unavailable", "network_error"].includes(failed.code), failed.code);
      assert.deepEqual(replaced, []);
    }
  });

  test("a page without the parameter reads the state as before and touches no URL", async () => {
    const fetchImpl = scriptedFetch(json(200, { subscriptions: [] }));
    const { options, replaced } = reading(fetchImpl, "http://h/p?tab=billing#x");
    await getBillingState(options);
    assert.equal(fetchImpl.calls[0].url, ENDPOINT);
    assert.deepEqual(replaced, []);
  });

  describe("in a browser (location and history)", () => {
    const saved = { location: globalThis.location, history: globalThis.history };
    afterEach(() => {
      globalThis.location = saved.location;
      globalThis.history = saved.history;
    });

    test("reads location.href and replaces the entry with history.replaceState", async () => {
      const calls = [];
      globalThis.location = { href: PAGE };
      globalThis.history = {
        state: { kept: true },
        replaceState: (...args) => calls.push(args),
      };
      const fetchImpl = scriptedFetch(json(200, { subscriptions: [SUBSCRIPTION] }));
      await getBillingState({ endpoint: ENDPOINT, getIdToken: async () => "t", fetch: fetchImpl });
      assert.equal(fetchImpl.calls[0].url, "http://127.0.0.1:8080/?checkout_session=cs_test_1");
      assert.deepEqual(calls, [[{ kept: true }, "", CLEAN]]);
    });
  });
});
