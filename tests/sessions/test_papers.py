"""Papers: checked uploads, versions, ranges for PDF.js, confidential marking, annotations."""

from __future__ import annotations

import io
from typing import Any

import pikepdf
from aiohttp import FormData
from pypdf import PdfReader

from meetings.sessions.papers.sample import encrypted_pdf, sample_pdf
from server.http.keys import CONFIG_KEY
from server.realtime import user_channel
from server.secret import Secret
from signing.devpki import DevPki
from signing.pades import Level, SignOptions, sign_pdf_async
from signing.tokens import pkcs12_signer
from tests.conftest import People
from tests.sessions.helpers import Council, make_council, next_op


async def upload(
    c: Council, data: bytes, *, login: str = "thuky", status: int = 201, **fields: str
) -> Any:
    form = FormData()
    form.add_field("file", data, filename="to-trinh.pdf", content_type="application/pdf")
    form.add_field("item_id", str(c.item))
    for key, value in fields.items():
        form.add_field(key, value)
    resp = await c.client.post(f"/api/v1/sessions/{c.sid}/papers", data=form, headers=c.h(login))
    body = await resp.json()
    assert resp.status == status, body
    return body


async def test_upload_checks_versions_ranges_and_search(client: Any, people: People) -> None:
    c = await make_council(client, people)
    assert (await upload(c, b"hello", status=422))["reason"] == "not_pdf"
    assert (await upload(c, encrypted_pdf(), status=422))["reason"] == "encrypted"
    assert (await upload(c, sample_pdf(3)[:700], status=422))["reason"] == "malformed"
    await upload(c, sample_pdf(2), login="db1", status=403)

    ws = await c.ws("db1", f"session:{c.sid}")
    paper = await upload(c, sample_pdf(60), title="Tờ trình ngân sách")
    assert paper["pages"] == 60 and paper["version"] == 1
    assert (await next_op(ws, "paper.added"))["data"]["paper_id"] == paper["id"]
    base = f"/api/v1/sessions/{c.sid}/papers/{paper['id']}"
    listed = await (await client.get(f"/api/v1/sessions/{c.sid}/papers", headers=c.h("db1"))).json()
    assert listed[0]["is_new"] is True
    await client.get(base, headers=c.h("db1"))
    listed = await (await client.get(f"/api/v1/sessions/{c.sid}/papers", headers=c.h("db1"))).json()
    assert listed[0]["is_new"] is False

    resp = await client.get(
        base + "/file", headers={**c.h("db1"), "Range": "bytes=0-1023", "Accept-Encoding": "gzip"}
    )
    assert resp.status == 206 and len(await resp.read()) == 1024
    assert resp.headers["Content-Range"] == f"bytes 0-1023/{paper['size']}"
    assert resp.headers.get("Accept-Ranges") == "bytes" and "ETag" in resp.headers
    assert "Content-Encoding" not in resp.headers
    whole = await client.get(base + "/file", headers=c.h("db1"))
    assert whole.status == 200 and whole.headers["Content-Type"] == "application/pdf"
    data = await whole.read()
    assert b"/ObjStm" in data  # rewritten with object streams for a fast first page
    assert len(PdfReader(io.BytesIO(data)).pages) == 60

    hits = await (await client.get(base + "/search?q=THUY LOI", headers=c.h("db1"))).json()
    assert [h["page"] for h in hits] == [50]
    across = f"/api/v1/sessions/{c.sid}/search?q=thuy loi"
    found = await (await client.get(across, headers=c.h("db1"))).json()
    assert [(h["paper_id"], h["page"]) for h in found] == [(paper["id"], 50)]
    assert (await client.get(base + "/file", headers=c.h("ngoai"))).status == 404

    form = FormData()
    form.add_field("file", sample_pdf(61), filename="v2.pdf", content_type="application/pdf")
    form.add_field("note", "Bổ sung phụ lục")
    resp = await client.post(base + "/versions", data=form, headers=c.h("thuky"))
    assert resp.status == 201 and (await resp.json())["version"] == 2
    assert (await next_op(ws, "paper.updated"))["data"]["paper_id"] == paper["id"]
    listed = await (await client.get(f"/api/v1/sessions/{c.sid}/papers", headers=c.h("db1"))).json()
    assert listed[0]["is_new"] is True and listed[0]["pages"] == 61
    detail = await (await client.get(base, headers=c.h("db1"))).json()
    assert [v["number"] for v in detail["versions"]] == [2, 1]
    assert detail["versions"][0]["note"] == "Bổ sung phụ lục"
    old = await client.get(base + "/file?v=1", headers=c.h("db1"))
    assert len(PdfReader(io.BytesIO(await old.read())).pages) == 60

    assert (await client.post(base + "/withdraw", headers=c.h("db1"))).status == 403
    assert (await client.post(base + "/withdraw", headers=c.h("thuky"))).status == 200
    assert (await next_op(ws, "paper.withdrawn"))["data"]["status"] == "withdrawn"
    await ws.close()


async def test_confidential_paper_named_readers_and_marking(client: Any, people: People) -> None:
    c = await make_council(client, people)
    paper = await upload(
        c,
        sample_pdf(3),
        title="Báo cáo mật",
        confidential="true",
        readers="db1",
        allow_download="false",
    )
    base = f"/api/v1/sessions/{c.sid}/papers/{paper['id']}"
    db2 = await (await client.get(f"/api/v1/sessions/{c.sid}/papers", headers=c.h("db2"))).json()
    assert db2 == []
    search = f"/api/v1/sessions/{c.sid}/search?q=Trang 1"
    assert await (await client.get(search, headers=c.h("db2"))).json() == []
    assert len(await (await client.get(search, headers=c.h("db1"))).json()) == 1
    assert (await client.get(base + "/file", headers=c.h("db2"))).status == 404
    detail = await (await client.get(base, headers=c.h("db1"))).json()
    assert detail["reader"]["name"] == "Đại biểu db1" and detail["can_download"] is False
    read = await client.get(base + "/file", headers={**c.h("db1"), "Range": "bytes=0-99"})
    assert read.status == 206
    marked = await (await client.get(base + "/file", headers=c.h("db1"))).read()
    text = PdfReader(io.BytesIO(marked)).pages[0].extract_text()
    assert "Đại biểu db1" in text and "Tài liệu mật" in text
    assert (await client.get(base + "/download", headers=c.h("db1"))).status == 403
    desk = await client.get(base + "/download", headers=c.h("thuky"))
    assert desk.status == 200 and "attachment" in desk.headers["Content-Disposition"]
    assert "Vũ Thị Hạnh" in PdfReader(io.BytesIO(await desk.read())).pages[2].extract_text()


async def test_annotations_private_synced_and_shared(client: Any, people: People) -> None:
    c = await make_council(client, people)
    paper = await upload(c, sample_pdf(3))
    base = f"/api/v1/sessions/{c.sid}/papers/{paper['id']}/annotations"
    me = (await c.call("GET", "", "db1"))["me"]
    other_device = await c.client.ws_connect(
        "/api/v1/realtime", headers={"Authorization": f"Bearer {await people.token('db1')}"}
    )
    await other_device.send_json(
        {"op": "subscribe", "channels": {user_channel(me["user_id"]): None}}
    )
    await next_op(other_device, "subscribed")
    note = {
        "motivation": "commenting",
        "body": {"type": "TextualBody", "value": "Hỏi lại số liệu", "format": "text/plain"},
        "target": {
            "source": f"paper:{paper['id']}",
            "selector": {"type": "FragmentSelector", "value": "page=2"},
        },
        "lt:page": 2,
    }
    resp = await client.post(base, json=note, headers=c.h("db1"))
    saved = await resp.json()
    assert (
        resp.status == 201 and saved["type"] == "Annotation" and saved["id"].startswith("urn:uuid:")
    )
    assert saved["creator"]["nickname"] == "db1"
    pushed = await next_op(other_device, "annotation.saved")
    assert pushed["data"]["annotation"]["body"]["value"] == "Hỏi lại số liệu"
    assert await (await client.get(base, headers=c.h("db2"))).json() == []
    aid = saved["id"].removeprefix("urn:uuid:")
    shared = {**note, "lt:audience": ["db2"]}
    assert (await client.put(f"{base}/{aid}", json=shared, headers=c.h("db2"))).status == 404
    assert (await client.put(f"{base}/{aid}", json=shared, headers=c.h("db1"))).status == 200
    seen = await (await client.get(base, headers=c.h("db2"))).json()
    assert [a["body"]["value"] for a in seen] == ["Hỏi lại số liệu"]
    bad = await client.post(base, json={"body": "x"}, headers=c.h("db1"))
    assert bad.status == 422 and (await bad.json())["field"] == "lt:page"
    assert (await client.delete(f"{base}/{aid}", headers=c.h("db1"))).status == 200
    assert (await next_op(other_device, "annotation.deleted"))["data"]["id"] == saved["id"]
    assert await (await client.get(base, headers=c.h("db1"))).json() == []
    await other_device.close()


async def test_signed_paper_is_kept_as_uploaded_and_checked(
    client: Any, people: People, pki: DevPki, responder: None
) -> None:
    c = await make_council(client, people)
    trust = client.app[CONFIG_KEY].trust_dir
    trust.mkdir(parents=True, exist_ok=True)
    (trust / "root.pem").write_bytes(pki.root_pem.read_bytes())
    signer = pkcs12_signer(pki.p12("leader"), Secret(pki.p12_password))
    signed, _ = await sign_pdf_async(sample_pdf(4), signer, SignOptions(level=Level.B_B))
    paper = await upload(c, signed, title="Nghị quyết đã ký")
    assert paper["signature"]["status"] == "valid", paper["signature"]
    base = f"/api/v1/sessions/{c.sid}/papers/{paper['id']}"
    served = await (await client.get(base + "/file", headers=c.h("db1"))).read()
    assert served == signed  # never rewritten: the signature stays valid on the tablet
    # signed by a certificate the server does not trust: kept, and shown as not valid
    (trust / "root.pem").unlink()
    other = await upload(c, signed, title="Bản sao")
    assert other["signature"]["status"] == "invalid" and other["signature"]["summary"]


def _with_signature_field(data: bytes, *, broken_form: bool) -> bytes:
    """``data`` with a signature field whose dictionary pypdf cannot read: its ``/Parent`` is a
    number (``broken_form=False``), or the form itself is not a dictionary (``True``)."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        value = pikepdf.Dictionary(
            Type=pikepdf.Name.Sig,
            Filter=pikepdf.Name("/Adobe.PPKLite"),
            ByteRange=pikepdf.Array([0, 10, 20, 30]),
            Contents=b"\x30\x80" + b"\x00" * 30,
        )
        field = pdf.make_indirect(
            pikepdf.Dictionary(
                FT=pikepdf.Name.Sig, T="Chu ky", Parent=5, V=pdf.make_indirect(value)
            )
        )
        if broken_form:
            pdf.Root.AcroForm = 5
            pdf.Root.LtSignature = field  # still in the file, out of the form's reach
        else:
            pdf.Root.AcroForm = pikepdf.Dictionary(Fields=pikepdf.Array([field]))
        out = io.BytesIO()
        pdf.save(out)
        return out.getvalue()


async def test_unreadable_signature_is_refused_never_rewritten(client: Any, people: People) -> None:
    """A signature the check cannot read is not taken for "unsigned": rewriting the file would
    destroy it.  The upload is refused in Vietnamese and nothing is stored."""
    c = await make_council(client, people)
    stored = client.app[CONFIG_KEY].files_dir / "papers"
    before = sorted(stored.rglob("*.pdf")) if stored.exists() else []
    for broken_form in (False, True):
        data = _with_signature_field(sample_pdf(2), broken_form=broken_form)
        resp = await c.client.post(
            f"/api/v1/sessions/{c.sid}/papers",
            data=_form(data, c.item),
            headers=c.h("thuky"),
        )
        body = await resp.json()
        assert resp.status == 422, body
        assert resp.content_type == "application/problem+json"
        assert body["reason"] == "signature_unreadable" and "chữ ký số" in body["detail_vi"]
    after = sorted(stored.rglob("*.pdf")) if stored.exists() else []
    assert after == before  # neither stored nor rewritten
    listed = await client.get(f"/api/v1/sessions/{c.sid}/papers", headers=c.h("thuky"))
    assert await listed.json() == []


def _form(data: bytes, item: int) -> FormData:
    form = FormData()
    form.add_field("file", data, filename="da-ky.pdf", content_type="application/pdf")
    form.add_field("item_id", str(item))
    return form
