"""Streaming a response made of database reads under ASGI."""

from collections.abc import AsyncIterator, Iterator

from asgiref.sync import sync_to_async


async def pulled_in_thread(chunks: Iterator[str]) -> AsyncIterator[str]:
    """`chunks` as an async iterator, each chunk made in the request's thread, where
    its database connection (and the open cursor) lives."""
    next_chunk = sync_to_async(next, thread_sensitive=True)
    try:
        while (chunk := await next_chunk(chunks, None)) is not None:
            yield chunk
    finally:
        await sync_to_async(chunks.close, thread_sensitive=True)()
