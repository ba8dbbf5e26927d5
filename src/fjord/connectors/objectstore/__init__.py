"""Object-storage connectors: a sink that backs topics up to S3-compatible stores or a local
folder, and a source that restores them. The stores themselves are `fjord.objectstore`."""
