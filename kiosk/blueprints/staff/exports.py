"""CSV downloads of the back-office lists, made for Excel as the hall's staff use it."""
import csv
import io
from collections.abc import Iterable

from flask import Response

from ...lending import hall_today

# Excel runs a cell that starts with one of these as a formula. Names and notes come from
# residents and the public tablet, so such cells are quoted to stay plain text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> str:
    return inert("" if value is None else str(value))


def inert(text: str) -> str:
    """Text that a spreadsheet shows as text, never runs as a formula (CSV and Excel alike)."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_response(name: str, header: Iterable, rows: Iterable[Iterable]) -> Response:
    """A CSV file download: UTF-8 with a byte-order mark, without which Excel garbles Chinese."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow([str(h) for h in header])
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    filename = f"{name}-{hall_today().isoformat()}.csv"
    return Response(buffer.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"',
                             # Residents' names and numbers: not to be kept in any cache.
                             "Cache-Control": "no-store"})
