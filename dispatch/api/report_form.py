"""扫码报事: a printable QR code per grid that opens a small mobile report form.

GET /report/qr/{grid}.png is the code; GET /report/{grid} is the form. The form posts to
the Open311 endpoint (POST /open311/v2/requests.json) with the site's published form key
and a position inside the grid, so a resident's report lands in the grid of the poster.
"""

from __future__ import annotations

import io
from html import escape

import segno
from flask import Blueprint, Response, abort, request

from dispatch.api.accounts import public_key
from dispatch.api.context import api_context
from dispatch.reports import SERVICES
from gridwatch.site.areas import Geometry
from gridwatch.site.geometry import geometry_contains

bp = Blueprint("report_form", __name__)


def report_url(base_url: str, grid_id: str) -> str:
    """The address a grid's QR code carries."""
    return f"{base_url.rstrip('/')}/report/{grid_id}"


def qr_png(url: str, scale: int = 10) -> bytes:
    """A QR code PNG of `url`, medium error correction (survives a scuffed poster)."""
    buffer = io.BytesIO()
    segno.make(url, error="m", micro=False).save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


def interior_point(geometry: Geometry, center: tuple[float, float]) -> tuple[float, float]:
    """(lat, lon) inside the outline: the centre when it is inside (a concave grid's may not be)."""
    if geometry_contains(geometry, *center):
        return center
    ring = geometry.polygons()[0][0]
    for i in range(len(ring) - 1):
        for j in range(i + 2, len(ring) - 1):
            lat = (ring[i][1] + ring[j][1]) / 2
            lon = (ring[i][0] + ring[j][0]) / 2
            if geometry_contains(geometry, lat, lon):
                return lat, lon
    return center


_FORM = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>扫码报事 Report a problem · {grid_name}</title>
<style>body{{font-family:sans-serif;max-width:30rem;margin:1rem auto;padding:0 1rem}}
label,select,textarea,input,button{{display:block;width:100%;margin:.35rem 0;font-size:1.05rem}}
textarea{{min-height:6rem}} button{{padding:.7rem;background:#c62828;color:#fff;border:0}}
#result{{margin-top:1rem;font-weight:bold}} small{{color:#555}}</style></head>
<body><h1>扫码报事 <small>Report a problem</small></h1>
<p>{grid_name} <small>{grid_name_en}</small></p>
<form id="report" method="post" action="/open311/v2/requests.json" enctype="multipart/form-data">
<input type="hidden" name="api_key" value="{api_key}">
<input type="hidden" name="lat" value="{lat}">
<input type="hidden" name="long" value="{lon}">
<label for="service_code">问题类型 What is wrong</label>
<select id="service_code" name="service_code">{options}</select>
<label for="description">问题描述 Describe it</label>
<textarea id="description" name="description" required maxlength="4000"></textarea>
<label for="address_string">具体位置 Where exactly (楼栋、楼层 building, floor)</label>
<input id="address_string" name="address_string" maxlength="500">
<label for="media">照片（可选） Photo (optional)</label>
<input id="media" name="media" type="file" accept="image/jpeg,image/png" capture="environment">
<button type="submit">提交 Send</button></form>
<div id="result" role="status"></div>
<script>
// One report per press of Send (a double tap must not file two), and always an answer:
// the number, the server's reason, or that it could not be reached (the text is kept).
let sending = false;
document.getElementById("report").addEventListener("submit", async (event) => {{
  event.preventDefault();
  if (sending) return;
  sending = true;
  const form = event.target, button = form.querySelector("button[type=submit]");
  const out = document.getElementById("result");
  button.disabled = true;
  out.textContent = "提交中 Sending…";
  const later = "; 请稍后再试 please try again later";
  try {{
    const answer = await fetch(form.action, {{method: "POST", body: new FormData(form)}});
    const body = await answer.json().catch(() => null);
    if (answer.ok && body) {{
      const number = body[0].service_request_id;
      out.textContent = "已提交，编号 " + number + " Sent, number " + number;
      form.reset();
    }} else if (body && body[0] && body[0].description) {{
      out.textContent = "未能提交 Not sent: " + body[0].description;
    }} else {{
      out.textContent = "未能提交 Not sent: 服务器出错 the server failed (HTTP "
        + answer.status + ")" + later;
    }}
  }} catch (error) {{
    out.textContent = "未能提交 Not sent: 连接不上服务器 the server cannot be reached" + later;
  }} finally {{
    sending = false;
    button.disabled = false;
  }}
}});
</script></body></html>"""


def _grid(grid_id: str) -> dict:
    with api_context().pool.connection() as conn:
        row = conn.execute(
            "SELECT id, name, name_en, geometry, center_lat, center_lon FROM areas"
            " WHERE id = %s AND level = 'grid'",
            (grid_id,),
        ).fetchone()
    if row is None:
        abort(404, f"no grid {grid_id}")
    return row


@bp.get("/report/qr/<grid_id>.png")
def grid_qr(grid_id: str) -> Response:
    _grid(grid_id)
    return Response(qr_png(report_url(request.url_root, grid_id)), mimetype="image/png")


@bp.get("/report/<grid_id>")
def grid_form(grid_id: str) -> Response:
    grid = _grid(grid_id)
    lat, lon = interior_point(
        Geometry.model_validate(grid["geometry"]), (grid["center_lat"], grid["center_lon"])
    )
    with api_context().pool.connection() as conn:
        key = public_key(conn)
    options = "".join(
        f'<option value="{s.code}">{escape(s.name)} {escape(s.name_en)}</option>' for s in SERVICES
    )
    page = _FORM.format(
        grid_name=escape(grid["name"]),
        grid_name_en=escape(grid["name_en"] or ""),
        api_key=escape(key),
        lat=lat,
        lon=lon,
        options=options,
    )
    return Response(page, mimetype="text/html")
