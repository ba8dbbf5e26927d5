"""ARNs in MSK's form, so that tools parsing `arn:...:cluster/NAME/UUID` keep working.

The partition is `aws` and the account all zeros: Fjord has no accounts, and SDKs and
scripts that split ARNs expect six colon-separated fields.
"""

from __future__ import annotations

import uuid

REGION = "local"
ACCOUNT = "000000000000"


def new_arn(kind: str, name: str) -> str:
    return f"arn:aws:kafka:{REGION}:{ACCOUNT}:{kind}/{name}/{uuid.uuid4()}"


def kind_of(arn: str) -> str:
    """`cluster`, `configuration`, `cluster-operation`, or '' for anything else."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return ""
    return parts[5].split("/", 1)[0]


def uuid_of(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]
