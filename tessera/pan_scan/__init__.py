"""A card-number scanner for files at rest: the operator's check that no card number sits in plain
sight in database files, WAL, dumps or logs (`tessera scan-pans PATH...`), and the fault suite's last
test. It imports only the vault's Luhn and masking helpers; nothing in the gateway imports it.

Two modes. With a list of card numbers it reports every place where those digits appear in a row,
in any form below, even glued to other digits: exact, and practically free of false hits. Without a
list it reports, as PCI DSS discovery tools do, every 13-19 digit number that passes the Luhn check,
starts in a card brand's issuer range (`cards`) and has one of that brand's lengths. That mode trades
precision for recall: about one random digit string in ten passes Luhn and the ranges cover most
leading digits (Maestro's 50 and 56-69 above all), so long ids, amounts joined by spaces or counters
in binary pages give false hits now and then, and each hit needs a look. To keep those few it misses
on purpose a number taken out of the middle of a longer digit group (a 20-digit id is not a card
number), one whose groups are joined by different separators, and one with a group of one or two
digits before its last (`41 200 1234567 2026` is a log line, not a card); the list mode finds them all.
Both modes want the first group to have two digits or more: no card layout starts with one.

Forms searched (`forms`): plain digits; groups joined by one to three of space, dash, dot, slash or
underscore; UTF-16LE/BE and UTF-32LE/BE text; digits of other scripts in UTF-8 (fullwidth,
Arabic-Indic and every character `unicodedata.digit` maps); JSON, C and HTML escapes (`\\u0034`,
`\\x34`, `&#52;`); hex-encoded ASCII (a bytea column in a pg_dump); inside gzip, bzip2 and xz files.
Hits are printed masked, BIN + last 4; the full number is never printed or stored.
"""

from tessera.pan_scan.command import scan_pans
from tessera.pan_scan.forms import SCRIPTS
from tessera.pan_scan.scanner import Hit, ScanReport, scan

# The forms searched, as a reviewer reads them (the fault suite's figure counts them).
FORMS: tuple[str, ...] = (
    "plain",
    "spaced",
    "dashed",
    "dotted",
    "other separators",
    "UTF-16LE",
    "UTF-16BE",
    "UTF-32LE",
    "UTF-32BE",
    f"{len(SCRIPTS)} other digit scripts",
    "JSON/C/HTML escapes",
    "hex",
    "gzip/bzip2/xz",
)

__all__ = ["FORMS", "Hit", "ScanReport", "scan", "scan_pans"]
