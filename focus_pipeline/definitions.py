"""The code location: ``dagster dev -m focus_pipeline.definitions``."""

from focus_pipeline.defs import build_definitions
from focus_pipeline.settings import load_settings

defs = build_definitions(load_settings())
