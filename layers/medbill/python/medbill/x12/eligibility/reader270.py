"""Reading a 270 (what the payer simulator answers): the 271 reader's state machine with EQ in place of
EB; members carry ``inquiries`` (the EQ01 service types asked) and their TRN trace numbers."""

from medbill.x12.eligibility.reader271 import parse_270, read_270

__all__ = ["parse_270", "read_270"]
