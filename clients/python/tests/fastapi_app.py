"""FastAPI + SQLAlchemy's asyncio engine (asyncpg), served by uvicorn, with
pg_health's component, pool reporter and routes (test/t/043_python.pl).

    PGH_URL=postgresql+asyncpg://api_svc@/postgres?host=/tmp&port=5432 \
    PGH_GO_FILE=/tmp/go PGH_TENANT_USER=ghost \
    python -m uvicorn fastapi_app:app --app-dir clients/python/tests --port 8000

/work?seconds=N holds one of the pool's connections for N seconds.
"""
from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from typing import Any, AsyncIterator

from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

import pg_health
import pg_health.fastapi
from apps_common import check, env, wait_go_async

logging.basicConfig(level=logging.INFO, format="fastapi_app: %(message)s")
NAME = env("PGH_COMPONENT", "api")
GO = env("PGH_GO_FILE")

engine = create_async_engine(env("PGH_URL"), pool_size=2, max_overflow=0, pool_timeout=60)
component = pg_health.AsyncComponent(NAME, engine, heartbeat_interval=0.5, pool_interval=0.2)
component.watch_pool(engine)
readiness = pg_health.AsyncReadiness(engine, timeout=2.0, component=component,
                                     application_name=NAME + " readiness")
tenant = pg_health.AsyncReadiness(engine, timeout=2.0, for_user=env("PGH_TENANT_USER"),
                                  for_database="postgres", application_name=NAME + " tenant")


async def initialize() -> None:
    await component.start("waiting for the go file")
    last = await wait_go_async(GO)
    while True:
        try:
            async with component.starting("checking the schema"):
                check(last)
        except RuntimeError:
            # failed, with the message, until the file changes
            last = await wait_go_async(GO, last)
            continue
        await component.ready()
        logging.info("%s ready", NAME)
        return


@contextlib.asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:
    async with component:                  # starting ... stopped
        task = asyncio.ensure_future(initialize())
        yield
        task.cancel()
    await readiness.close()
    await tenant.close()
    await engine.dispose()
    logging.info("%s stopped", NAME)


if "lifespan" in inspect.signature(FastAPI).parameters:
    app = FastAPI(lifespan=lifespan)
else:                                      # FastAPI before 0.93
    app = FastAPI()
    app.router.lifespan_context = lifespan
app.include_router(pg_health.fastapi.router(readiness))
app.include_router(pg_health.fastapi.router(tenant, prefix="/tenant"))


@app.get("/work")
async def work(seconds: float = 1.0) -> Any:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT pg_catalog.pg_sleep(:s)"), {"s": min(seconds, 10.0)})
    return {"done": True}
