"""Review tools for the portal configuration: plan, environment diff and live drift check.

`python -m review plan|diff|drift …` (see docs/review.md). Settings and the
portal spec come from the stack model `stackspec` (the same code `pulumi preview` runs); this
package only flattens, compares and reports. It imports nothing from `infra/`.
"""
