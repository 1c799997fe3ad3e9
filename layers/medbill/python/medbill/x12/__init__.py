"""X12 5010 reading and writing: tokenizer, envelopes, 835 remittance, 837P, 999, 277CA."""

from medbill.x12.tokenizer import Delimiters, Segment, X12SyntaxError, detect_delimiters, tokenize

__all__ = ["Delimiters", "Segment", "X12SyntaxError", "detect_delimiters", "tokenize"]
