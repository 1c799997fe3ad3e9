"""A statement as a PDF (fpdf2) and as a print-vendor record (docs/statements.md has the layout).

Both carry the guarantor's name and address, so they only ever go to the artifact store (S3, KMS):
never into logs, events or execution data.
"""

from __future__ import annotations

from decimal import Decimal

from medbill.billing.statements import Statement

VENDOR_LAYOUT_VERSION = "MBSTMT1"


def _money(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def render_pdf(statement: Statement) -> bytes:
    from fpdf import FPDF  # imported when a statement is rendered: cold starts of other handlers skip it

    pdf = FPDF(format="letter")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.cell(0, 8, statement.billing_provider, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    pdf.cell(0, 6, f"Patient statement {statement.statement_id}", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 6, f"Statement date {statement.statement_date.isoformat()}", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 6, f"Notice: {statement.notice}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    g = statement.guarantor
    for text in (
        " ".join(n for n in (g.first_name, g.last_name) if n),
        g.address.line1,
        g.address.line2 or "",
        f"{g.address.city}, {g.address.state} {g.address.postal_code}",
    ):
        if text:
            pdf.cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    widths = (26, 44, 24, 24, 24, 22, 24)
    header = ("Service date", "Procedures", "Charge", "Insurance", "Adjusted", "You paid", "Balance")
    pdf.set_font("Helvetica", "B", 9)
    for w, h in zip(widths, header, strict=True):
        pdf.cell(w, 7, h, border=1)
    pdf.ln()
    pdf.set_font("Helvetica", "", 9)
    for line in statement.lines:
        cells = (
            line.date_of_service.isoformat(),
            " ".join(line.procedure_codes)[:26],
            _money(line.charge),
            _money(line.insurance_paid),
            _money(line.adjustments),
            _money(line.patient_paid),
            _money(line.balance),
        )
        for w, c in zip(widths, cells, strict=True):
            pdf.cell(w, 7, c, border=1, align="L" if w in (26, 44) else "R")
        pdf.ln()
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(0, 8, f"Amount due: {_money(statement.total_due)}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    pdf.cell(0, 6, f"Please pay by {statement.due_date.isoformat()}", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _field(value: object) -> str:
    return str(value).replace("|", " ").replace("\n", " ")


def render_vendor_record(statement: Statement) -> str:
    """Pipe-delimited records, one statement: H header, G guarantor, L one per claim, T total."""
    g, a = statement.guarantor, statement.guarantor.address
    rows = [
        (
            "H",
            VENDOR_LAYOUT_VERSION,
            statement.statement_id,
            statement.statement_date.isoformat(),
            statement.due_date.isoformat(),
            statement.sequence,
            statement.notice,
            statement.clinic_id,
            statement.billing_provider,
        ),
        ("G", statement.account, g.last_name, g.first_name, a.line1, a.line2 or "", a.city, a.state, a.postal_code),
        *(
            (
                "L",
                line.claim_id,
                line.date_of_service.isoformat(),
                " ".join(line.procedure_codes),
                f"{line.charge:.2f}",
                f"{line.insurance_paid:.2f}",
                f"{line.adjustments:.2f}",
                f"{line.patient_paid:.2f}",
                f"{line.balance:.2f}",
            )
            for line in statement.lines
        ),
        ("T", statement.statement_id, len(statement.lines), f"{statement.total_due:.2f}"),
    ]
    return "".join("|".join(_field(v) for v in row) + "\n" for row in rows)
