"""X12 5010 reading and writing: tokenizer, envelopes, 835 remittance, 837P, 999, 277CA."""

from medbill.x12.envelope import EnvelopeReader, check_envelopes, iter_transactions
from medbill.x12.remittance835 import Payment, RemittanceReader, parse_835, read_835, write_835
from medbill.x12.tokenizer import (
    Delimiters,
    Segment,
    X12SyntaxError,
    X12TruncatedError,
    detect_delimiters,
    tokenize,
)

__all__ = [
    "Delimiters",
    "EnvelopeReader",
    "Payment",
    "RemittanceReader",
    "Segment",
    "X12SyntaxError",
    "X12TruncatedError",
    "check_envelopes",
    "detect_delimiters",
    "iter_transactions",
    "parse_835",
    "read_835",
    "tokenize",
    "write_835",
]
