"""Backup rules, the CKafka way: a rule is an object-storage sink connector in a Connect cluster.

This package is what `fjord backup` needs beyond HTTP: turning a rule's options into a
connector config, checking them before anything is created, reading a rule's run history
from its bucket, and driving a restore. It talks to Connect only over its REST API.
"""
