"""The small FastAPI app the whole course uses. Read it: it is meant to be read."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Cookie, FastAPI, HTTPException, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import PlainTextResponse, RedirectResponse
from pydantic import BaseModel

__all__ = ["demo_api"]


class NewItem(BaseModel):
    name: str


def demo_api(**cors_options: Any) -> FastAPI:
    """A fresh demo API (its own items and sessions), with ``CORSMiddleware(**cors_options)`` if any are given.

    Routes: ``GET /items``, ``POST /items`` (JSON ``{"name": ...}``),
    ``PUT /items/{id}``, ``DELETE /items/{id}``, ``POST /login`` (sets a
    ``session`` cookie), ``GET /me`` (reads it), ``GET /report`` (a CSV
    download with ``Content-Disposition`` and ``X-Total-Count``), ``GET /boom``
    (raises) and ``GET /old`` (a permanent redirect to ``/items``).

    >>> import cors_lab
    >>> app = cors_lab.demo_api(allow_origins=["http://localhost:3000"])
    >>> cors_lab.send(app, "GET", "/items", headers={"Origin": "http://localhost:3000"}).response.header(
    ...     "access-control-allow-origin")
    'http://localhost:3000'
    """
    app = FastAPI(title="demo API")
    items: dict[int, dict[str, Any]] = {1: {"id": 1, "name": "apple"}, 2: {"id": 2, "name": "pear"}}
    sessions: dict[str, str] = {}

    @app.get("/items")
    def list_items() -> list[dict[str, Any]]:
        return list(items.values())

    @app.post("/items", status_code=201)
    def create_item(item: NewItem) -> dict[str, Any]:
        new_id = max(items, default=0) + 1
        items[new_id] = {"id": new_id, "name": item.name}
        return items[new_id]

    @app.put("/items/{item_id}")
    def replace_item(item_id: int, item: NewItem) -> dict[str, Any]:
        items[item_id] = {"id": item_id, "name": item.name}
        return items[item_id]

    @app.delete("/items/{item_id}", status_code=204)
    def delete_item(item_id: int) -> None:
        if items.pop(item_id, None) is None:
            raise HTTPException(status_code=404, detail="no such item")

    @app.post("/login")
    def login(response: Response, user: str = "ada") -> dict[str, str]:
        token = f"{user}-{len(sessions) + 1}"
        sessions[token] = user
        # Starlette's defaults: Path=/, SameSite=lax.
        response.set_cookie("session", token, httponly=True)
        return {"user": user}

    @app.get("/me")
    def me(session: Annotated[str | None, Cookie()] = None) -> dict[str, str]:
        if session not in sessions:
            raise HTTPException(status_code=401, detail="not logged in")
        return {"user": sessions[session]}

    @app.get("/report")
    def report() -> PlainTextResponse:
        rows = "\n".join(f"{item['id']},{item['name']}" for item in items.values())
        return PlainTextResponse(
            f"id,name\n{rows}\n",
            media_type="text/csv",
            headers={"Content-Disposition": 'attachment; filename="report.csv"', "X-Total-Count": str(len(items))},
        )

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("boom")

    @app.get("/old")
    def old() -> RedirectResponse:
        return RedirectResponse("/items", status_code=301)

    if cors_options:
        app.add_middleware(CORSMiddleware, **cors_options)
    return app
