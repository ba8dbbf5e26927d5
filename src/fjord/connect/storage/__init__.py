"""The worker's backing stores (Kafka's ConfigBackingStore, StatusBackingStore, OffsetBackingStore).

Each has an in-memory variant (standalone mode; source offsets may also go to a file) and a
Kafka-topic variant (distributed mode) that replays a compacted topic through `KafkaLog`.
"""
