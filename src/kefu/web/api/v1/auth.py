"""API sign-in: trade a username and password for a bearer token; who am I."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from kefu.domain.actors import Actor, Role
from kefu.services import accounts
from kefu.services.uow import Database
from kefu.web.deps import current_actor, db_dep
from kefu.web.errors import error_responses

router = APIRouter(prefix="/auth", tags=["auth"])


class TokenRequest(BaseModel):
    username: str = Field(min_length=1, max_length=64, examples=["agent01"])
    password: str = Field(min_length=1, max_length=256)
    name: str = Field(default="api", max_length=100, description="a label for the token")


class ActorOut(BaseModel):
    user_id: int | None
    role: Role
    display_name: str
    customer_id: str | None = None
    seller_id: str | None = None

    @classmethod
    def of(cls, actor: Actor) -> ActorOut:
        return cls(user_id=actor.user_id, role=actor.role, display_name=actor.display_name,
                   customer_id=actor.customer_id, seller_id=actor.seller_id)


class TokenOut(BaseModel):
    token: str = Field(description="send as `Authorization: Bearer <token>`; shown only once")
    token_type: str = "bearer"
    actor: ActorOut


@router.post("/token", response_model=TokenOut, status_code=201, responses=error_responses(401),
             summary="Issue a bearer token 获取 API 令牌")
async def issue_token(body: TokenRequest, db: Database = Depends(db_dep)) -> TokenOut:
    # argon2 is deliberately slow: keep it off the event loop.
    actor = await run_in_threadpool(accounts.authenticate, db, body.username, body.password)
    token = await run_in_threadpool(accounts.issue_api_token, db, actor, body.name)
    return TokenOut(token=token, actor=ActorOut.of(actor))


@router.get("/me", response_model=ActorOut, responses=error_responses(401),
            summary="The signed-in account 当前账号")
def me(actor: Actor = Depends(current_actor)) -> ActorOut:
    return ActorOut.of(actor)
