"""X12 835 (005010X221A1) health care claim payment/advice: models, streaming reader with balancing, writer.

- ``models.py``: Payment, ClaimPayment, ServiceLine, Adjustment, ProviderAdjustment, Party, ...
- ``reader.py``: RemittanceReader / read_835 (streaming, one claim at a time) and parse_835;
  ``loops.py`` holds the per-segment handlers, ``amounts.py`` strict amount reading, ``balancing.py``
  the claim, line and transaction balancing (reported as problems, never raised).
- ``writer.py``: write_835.

Every public name is importable from ``medbill.x12.remittance835`` itself.
"""

from medbill.x12.remittance835.models import (
    IMPLEMENTATION_GUIDE,
    ZERO,
    Adjustment,
    ClaimPayment,
    Contact,
    Party,
    Payment,
    PersonName,
    ProviderAdjustment,
    Reference,
    ServiceLine,
    money,
)
from medbill.x12.remittance835.reader import RemittanceReader, parse_835, read_835
from medbill.x12.remittance835.writer import write_835

__all__ = [
    "IMPLEMENTATION_GUIDE",
    "ZERO",
    "Adjustment",
    "ClaimPayment",
    "Contact",
    "Party",
    "Payment",
    "PersonName",
    "ProviderAdjustment",
    "Reference",
    "RemittanceReader",
    "ServiceLine",
    "money",
    "parse_835",
    "read_835",
    "write_835",
]
