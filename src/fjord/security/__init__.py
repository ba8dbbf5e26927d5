"""Fjord's security layer: TLS contexts, SASL mechanisms, principals, the authorizer, quotas."""
