"""Hand-written 270/271 texts shared by the eligibility tests (each value chosen to be checked exactly)."""

from __future__ import annotations

ISA = "ISA*00*          *00*          *ZZ*PAYERSIM       *ZZ*SUNRISE        *250102*1030*^*00501*000000042*0*T*:"


def interchange(body: list[str], *, set_id: str = "271", functional_id: str = "HB", st02: str = "0042") -> str:
    """``body`` (segments after ST, without SE) inside ISA/GS/ST ... SE/GE/IEA with correct counts."""
    segments = [
        ISA,
        f"GS*{functional_id}*PAYERSIM*SUNRISE*20250102*1030*42*X*005010X279A1",
        f"ST*{set_id}*{st02}*005010X279A1",
        *body,
        f"SE*{len(body) + 2}*{st02}",
        "GE*1*42",
        "IEA*1*000000042",
    ]
    return "~\n".join(segments) + "~\n"


# One payer, one provider, four subscribers:
#   HL 3 active, with plan/group, dates, copay / coinsurance / deductible / out of pocket, 2120C other payer;
#        a dependent (HL 4) active with its own trace;
#   HL 5 inactive, identity corrected by the payer (INS*Y*18*001*25, REF*Q4 the id we sent);
#   HL 6 rejected at 2100C (AAA 72, correct and resend);
#   HL 7 active, but its 2110C for service type 33 rejected (AAA 53) and its dependent rejected (AAA 67, wait 10 days).
RICH_271_BODY = [
    "BHT*0022*11*REQ0001*20250102*1030",
    "HL*1**20*1",
    "NM1*PR*2*ACME HEALTH PLAN*****PI*842610001",
    "PER*IC**TE*8005551212",
    "HL*2*1*21*1",
    "NM1*1P*2*SUNRISE CLINIC*****XX*1234567893",
    "HL*3*2*22*1",
    "TRN*2*CLM0001*9SUNRISE01",
    "NM1*IL*1*DOE*JANE****MI*W123456789",
    "REF*18*PLAN77*GOLD PPO 2025",
    "REF*1L*GRP555*ACME EMPLOYEES",
    "N3*12 MAIN ST",
    "N4*AUSTIN*TX*78701",
    "DMG*D8*19800203*F",
    "DTP*346*D8*20250101",
    "DTP*347*D8*20251231",
    "DTP*356*RD8*20250101-20251231",
    "DTP*291*D8*20250102",
    "EB*1*FAM*30^98*PR*GOLD PPO",
    "EB*B*IND*98*PR**27*25.00*****Y",
    "EB*A*IND*98*PR**27**0.2****N",
    "EB*C*IND*30*PR**23*1500.00*****Y",
    "EB*C*IND*30*PR**29*500.00*****Y",
    "MSG*DEDUCTIBLE MET AFTER CLAIM OF JANE DOE",
    "EB*G*FAM*30*PR**23*6000.00*****Y",
    "EB*F*IND*33*PR**23***VS*20**Y",
    "DTP*348*D8*20250101",
    "EB*R**30",
    "REF*18*OTHERPLAN",
    "LS*2120",
    "NM1*PRP*2*BETA INSURANCE*****PI*99999",
    "PER*IC**TE*8005550000",
    "LE*2120",
    "HL*4*3*23*0",
    "TRN*2*CLM0002*9SUNRISE01",
    "NM1*03*1*DOE*KID",
    "DMG*D8*20150607*M",
    "INS*N*19",
    "EB*1**30",
    "HL*5*2*22*0",
    "TRN*2*CLM0003*9SUNRISE01",
    "NM1*IL*1*ROE*RICHARD****MI*X987654321",
    "REF*Q4*X98765432",
    "INS*Y*18*001*25",
    "DTP*357*D8*20241231",
    "EB*6**30",
    "HL*6*2*22*0",
    "TRN*2*CLM0004*9SUNRISE01",
    "NM1*IL*1*POE*EDGAR****MI*BADID",
    "AAA*N**72*C",
    "HL*7*2*22*1",
    "TRN*2*CLM0005*9SUNRISE01",
    "NM1*IL*1*LOE*ANNA****MI*Z111",
    "EB*1**30",
    "EB*V**33",
    "AAA*Y**53*R",
    "HL*8*7*23*0",
    "TRN*2*CLM0006*9SUNRISE01",
    "NM1*03*1*LOE*BABY",
    "AAA*N**67*X",
]
RICH_271 = interchange(RICH_271_BODY)

# Rejections above the members: the source cannot answer now (2000A AAA 42, resubmit allowed) and a
# second receiver is not on file (2100B AAA 51, correct and resend).
UPPER_271 = interchange(
    [
        "BHT*0022*11*REQ0002*20250102*1030",
        "HL*1**20*1",
        "AAA*Y**42*R",
        "NM1*PR*2*ACME HEALTH PLAN*****PI*842610001",
        "HL*2*1*21*0",
        "NM1*1P*2*SUNRISE CLINIC*****XX*1234567893",
        "AAA*N**51*C",
    ]
)
