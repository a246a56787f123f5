"""Pure logic of the pipeline: naming, listing, planning and streaming copies.

Nothing in this package imports Dagster, so it is tested and benchmarked on its own and
could serve another orchestrator unchanged.
"""
