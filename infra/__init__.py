"""The billing-portal Pulumi program: one stack = one environment's portal and session function."""
