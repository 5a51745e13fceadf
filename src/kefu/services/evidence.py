"""Evidence upload: limited in size, checked by content, stored through the storage port."""

from __future__ import annotations

import hashlib
import io
import secrets
from datetime import datetime

from PIL import Image, UnidentifiedImageError

from kefu.adapters.db.tables.aftersales import EvidenceFile
from kefu.domain.actors import Actor, Role
from kefu.domain.clock import Clock
from kefu.domain.errors import InputError, NotFound, PayloadTooLarge, PermissionDenied
from kefu.domain.evidence import ACCEPTED, sniff
from kefu.services.ports import Storage
from kefu.services.uow import Database


def too_large(limit: int) -> PayloadTooLarge:
    mib = limit / (1024 * 1024)
    return PayloadTooLarge("upload_too_large", f"文件过大，单个文件不能超过 {mib:.0f} MB。",
                           f"The file is too large; the limit is {mib:.0f} MB.", limit_bytes=limit)


def _check_content(data: bytes, claimed_type: str | None) -> str:
    kind = sniff(data[:16])
    if kind is None:
        raise InputError("unsupported_file_type", "只支持 JPEG、PNG、WebP、GIF 图片或 PDF 文件。",
                         "Only JPEG, PNG, WebP or GIF images and PDF files are accepted.",
                         claimed=claimed_type)
    if claimed_type and claimed_type in ACCEPTED and claimed_type != kind:
        raise InputError("file_type_mismatch", f"文件内容（{kind}）与声明的类型（{claimed_type}）不符。",
                         f"The file's content ({kind}) does not match its declared type ({claimed_type}).")
    if kind == "application/pdf":
        if b"%%EOF" not in data[-2048:]:
            raise InputError("corrupt_file", "PDF 文件不完整。", "The PDF file is incomplete.")
        return kind
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InputError("corrupt_file", "图片无法识别或已损坏。", "The image is damaged or not an image.",
                         error=type(exc).__name__) from None
    return kind


def upload_evidence(db: Database, storage: Storage, actor: Actor, filename: str, data: bytes,
                    claimed_type: str | None, max_bytes: int, clock: Clock) -> EvidenceFile:
    """Store one evidence file for the uploader; attach it later to an application by id.

    Refused before anything is written: a file over ``max_bytes`` (413 ``upload_too_large``),
    one whose bytes are not an accepted image or PDF, or that claims a type it is not (422).
    """
    if actor.role is Role.SYSTEM or actor.user_id is None:
        raise PermissionDenied("not_allowed", "请先登录。", "Please log in first.")
    if len(data) > max_bytes:
        raise too_large(max_bytes)
    if not data:
        raise InputError("empty_file", "文件为空。", "The file is empty.")
    kind = _check_content(data, claimed_type)
    digest = hashlib.sha256(data).hexdigest()
    now: datetime = clock()
    key = f"{now:%Y/%m/%d}/{secrets.token_hex(12)}{ACCEPTED[kind]}"
    storage.save(key, data)
    try:
        with db.uow() as uow:
            row = EvidenceFile(application_id=None, purpose="claim", uploaded_by=actor.user_id,
                               filename=filename[-255:] or "upload", content_type=kind, size=len(data),
                               sha256=digest, storage_key=key, created_at=now)
            uow.session.add(row)
            uow.commit()
            return row
    except BaseException:
        storage.delete(key)          # no file without its row
        raise


def read_evidence(db: Database, storage: Storage, actor: Actor, evidence_id: int) -> tuple[EvidenceFile, bytes]:
    """The file and its bytes, for its uploader or anyone who may see its application."""
    from kefu.services.aftersales import may_see_application

    with db.read() as uow:
        row = uow.session.get(EvidenceFile, evidence_id)
        if row is None:
            raise NotFound("evidence_not_found", "凭证文件不存在。", "Evidence file not found.")
        app = row.application if row.application_id is not None else None
        visible = row.uploaded_by == actor.user_id or (app is not None and may_see_application(actor, app))
        if not visible:
            raise NotFound("evidence_not_found", "凭证文件不存在。", "Evidence file not found.")
        return row, storage.load(row.storage_key)
