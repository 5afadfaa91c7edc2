"""Sample knowledge files and helpers shared by the retrieval tests."""

from __future__ import annotations

from pathlib import Path

REFUNDS = """\
---
title: Refund policy
owner: billing
---
# Refunds

Annual plans can be refunded in full within 30 days of purchase.

## Exceptions

Enterprise contracts follow the refund terms in the signed order form.
Chargebacks are handled by the finance team, never by support.

## How to ask for one

Email billing@example.com with the invoice number.
"""

SSO = """\
# Single sign-on

## SAML setup

Upload the identity provider metadata XML under Settings > Security.
SCIM provisioning is part of the Enterprise plan.

## Troubleshooting

Error SSO-402 means the signing certificate expired; upload the new certificate.
"""

EXPORT = """\
# Exporting data

Admins can export every project as CSV from Settings > Data > Export.
Exports larger than 2 GB are split into several files.
"""

SAMPLE_KB = {"billing/refunds.md": REFUNDS, "accounts/sso.md": SSO, "data/export.md": EXPORT}


def write_kb(root: Path, files: dict[str, str | bytes]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root
