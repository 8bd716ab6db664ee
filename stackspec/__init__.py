"""The stack model: a stack file's settings, validated, and the Stripe parameters they mean.

Pure Python (PyYAML only; no Pulumi, no Stripe SDK), shared by the Pulumi program (`infra/`) and
the review tools (`review/`): reading stack files (`stackfiles`), the typed settings (`settings`,
`portal_settings`, `branding_settings`, with `reader`, `urls` and `images` for the rules), the
specs they give (`portal_spec`, `branding_spec`), declared products (`declared`) and Stripe's
parameter schema (`schema`).
"""
