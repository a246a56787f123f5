"""focus-pipeline: copies OCI FOCUS cost reports into an Umbrella BYOD S3 bucket with Dagster."""

__version__ = "0.1.0"
