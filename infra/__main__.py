"""Pulumi entry point: stack config → settings → Stripe portal + Google Cloud service → outputs."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # Pulumi runs us from infra/

import pulumi

from infra.program import build
from infra.stack_config import load_settings

for output_name, value in build(load_settings()).items():
    pulumi.export(output_name, value)
