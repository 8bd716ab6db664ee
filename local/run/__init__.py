"""The whole product on this machine, offline: `python -m local.run` (what `make run` calls).

Starts, on 127.0.0.1 only: the Firestore emulator, the Stripe stand-in (or, when
`STRIPE_SECRET_KEY=sk_test_…` is set, real Stripe test mode instead), the development sign-in
issuer, the two functions of `function/` on functions-framework's development server (each
reloads when its code changes, with no debugger console; see `serve_function`) —
`create_portal_session` and `stripe_webhook`, which the stand-in forwards every event to,
signed with a secret of this run, as `stripe listen --forward-to` does — and a static server
for `web/` (the example settings page and `billing-portal.js`; a user without a plan starts
one through the function's Checkout, on the stand-in's Checkout page) — and, with
`--start-firebase-auth-emulator`, Firebase's own Auth emulator (`local/firebase`), whose unsigned
tokens the function then trusts (emulator mode; also with `--firebase-auth-emulator HOST:PORT`
for an emulator of your own). Prints what runs where; Ctrl-C (or SIGTERM) stops everything it
started, whole process groups, nothing left over. A crashed function restarts on the next save.

Ports: `--function-port`, `--webhook-port`, `--web-port`, `--stripe-port`, `--firestore-port`,
`--issuer-port`, or
the environment variables `LOCAL_FUNCTION_PORT`, … (flags win). A busy port stops the run before
anything starts, with a one-line message naming the flag to change.

Modules, by job:
  options      ports, flags and environment variables, the Stripe key, busy-port checks; the
               function's environment and the example page's config
  parts        how each part starts: the function in its own child (`--serve-function PORT`)
               with its reloader, `python -m` children, the static server for `web/`
  dev_tools    the stack's plans for the page's plan card
  stack_portal the stack's portal configuration and catalog in the stand-in, and what the
               function sells through the portal and Checkout
  supervisor   starting and stopping the parts, signals, the log folder and the function's log
               on this terminal, the table printed once everything runs, restarting a crashed
               function
  __main__     `main`: the command line
"""
