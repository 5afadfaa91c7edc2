"""The pipeline tests' small knowledge base and policy (imported by name, not fixtures)."""

from __future__ import annotations

import shutil
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

DOCS = {
    "accounts/password-reset.md": """# Reset your password

## Forgot your password

Open the sign-in page and click **Forgot password?**. We email a reset link to the address
on your account. The link is valid for 60 minutes and can be used once.

## Change your password while signed in

Go to Profile, then Security, then Change password. You need your current password.
""",
    "billing/refund-policy.md": """# Refund policy

## Standard refunds

Annual plans can be refunded in full within 30 days of the first payment or renewal.
Refunds go back to the original card within 5 to 10 business days.

## Exceptions

Refunds outside the 30-day window need approval from the billing team.
""",
    "product/exporting-data.md": """# Exporting data

Workspace owners can export every project as a ZIP archive from Settings, then Export.
The export includes comments and attachments but not billing history.
""",
}

POLICY = """
scope:
  description: "Acme Tracker, a project tracking app: accounts, passwords, billing, exports."
categories:
  refund_exception:
    description: "Refunds outside the standard window, partial refunds, chargebacks."
    examples:
      - "I missed the refund window by two months, can I still get my money back?"
      - "Please refund half of last year's invoice"
    keywords: ["chargeback"]
    escalate_to: human
  enterprise_contract:
    description: "Negotiated contract terms, master service agreements, custom pricing."
    examples:
      - "Our MSA says we get a 20% discount, why was it not applied?"
      - "Can we negotiate custom payment terms in our enterprise contract?"
    keywords: ["MSA"]
    escalate_to: frontier
thresholds:
  min_retrieval_score: 0.3
  min_confidence: 0.6
  max_model_failures: 2
budget:
  frontier_calls_per_day: {budget}
"""


def write_policies(directory: Path, *, budget: int = 50) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "escalation.yaml").write_text(POLICY.replace("{budget}", str(budget)))
    shutil.copytree(REPO_ROOT / "policies" / "prompts", directory / "prompts", dirs_exist_ok=True)
    return directory
