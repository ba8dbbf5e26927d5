"""FileStreamSource and FileStreamSink: Kafka's example connectors, with Kafka's configs."""

from fjord.connectors.file.sink import FileStreamSinkConnector, FileStreamSinkTask
from fjord.connectors.file.source import FileStreamSourceConnector, FileStreamSourceTask

__all__ = ["FileStreamSinkConnector", "FileStreamSinkTask", "FileStreamSourceConnector",
           "FileStreamSourceTask"]
