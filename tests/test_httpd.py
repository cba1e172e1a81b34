"""The connector's HTTP server over real sockets on 127.0.0.1: routes, token, bounds, JSON errors, ranges."""

from __future__ import annotations

import asyncio
import logging
import socket
from pathlib import Path

import httpx
import pytest

from smdr.errors import ConfigError, SmdrError
from smdr.httpd import HttpError, HttpServer, HttpSettings, LinkSigner, Request, Response, Router, json_response
from smdr.httpd.files import file_response, parse_range
from smdr.yamlfile import load_text

TOKEN = "t0ken-for-tests-only"


def make_server(tmp_path: Path | None = None, **settings) -> HttpServer:
    router = Router()

    async def hello(request: Request) -> Response:
        return json_response({"hello": request.query.get("name", "world")})

    async def echo(request: Request) -> Response:
        return Response(200, request.body, "application/octet-stream")

    async def broken(request: Request) -> Response:
        raise RuntimeError("a bug in a handler")

    async def refuse(request: Request) -> Response:
        raise HttpError(409, "not now")

    async def public(request: Request) -> Response:
        return json_response({"rest": request.route_rest})

    router.add("GET", "/hello", hello)
    router.add("POST", "/echo", echo)
    router.add("GET", "/broken", broken)
    router.add("GET", "/refuse", refuse)
    router.add("GET", "/files/", public, prefix=True, auth=False)
    if tmp_path is not None:
        audio = tmp_path / "call.wav"
        audio.write_bytes(bytes(range(256)) * 4)

        async def serve_file(request: Request) -> Response:
            return file_response(request, audio)

        router.add("GET", "/audio", serve_file, auth=False)
    return HttpServer(HttpSettings(port=0, token=TOKEN, **settings), router)


async def with_server(server: HttpServer, body) -> object:
    await server.start()
    try:
        return await body(f"http://127.0.0.1:{server.port}")
    finally:
        await server.close()


def test_a_route_answers_with_the_token_and_403_without(arun) -> None:
    async def body(base: str) -> None:
        async with httpx.AsyncClient(base_url=base, timeout=5) as client:
            ok = await client.get("/hello", params={"name": "Ali"}, headers={"Authorization": f"Bearer {TOKEN}"})
            assert ok.status_code == 200 and ok.json() == {"hello": "Ali"}
            assert (await client.get("/hello", params={"token": TOKEN})).status_code == 200
            for headers, params in (({}, {}), ({"Authorization": "Bearer wrong"}, {}), ({}, {"token": "x"})):
                refused = await client.get("/hello", headers=headers, params=params)
                assert refused.status_code == 403
                assert refused.json()["error"]["status"] == 403
                assert TOKEN not in refused.text

    arun(with_server(make_server(), body))


def test_without_a_configured_token_protected_routes_are_refused(arun) -> None:
    server = make_server()
    server.settings.token = ""

    async def body(base: str) -> None:
        async with httpx.AsyncClient(base_url=base, timeout=5) as client:
            assert (await client.get("/hello", params={"token": ""})).status_code == 403
            assert (await client.get("/files/a/b")).json() == {"rest": "a/b"}

    arun(with_server(server, body))


def test_errors_are_json_and_a_failing_handler_does_not_stop_the_server(arun, caplog) -> None:
    async def body(base: str) -> None:
        auth = {"Authorization": f"Bearer {TOKEN}"}
        async with httpx.AsyncClient(base_url=base, timeout=5) as client:
            missing = await client.get("/nowhere")
            assert (missing.status_code, missing.headers["content-type"]) == (404, "application/json; charset=utf-8")
            assert missing.json()["error"]["reason"] == "Not Found"
            wrong_method = await client.post("/hello", headers=auth)
            assert wrong_method.status_code == 405 and wrong_method.headers["allow"] == "GET, HEAD"
            with caplog.at_level(logging.ERROR, logger="smdr.http"):
                failed = await client.get("/broken", params={"token": TOKEN})
            assert failed.status_code == 500 and "internal error" in failed.json()["error"]["message"]
            assert "a bug in a handler" in caplog.text and TOKEN not in caplog.text
            assert (await client.get("/refuse", headers=auth)).json()["error"]["message"] == "not now"
            assert (await client.get("/hello", headers=auth)).status_code == 200

    arun(with_server(make_server(), body))


def test_keep_alive_serves_several_requests_on_one_connection(arun) -> None:
    async def body(base: str) -> None:
        port = int(base.rsplit(":", 1)[1])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        request = f"GET /hello?token={TOKEN} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
        answers = []
        for _ in range(3):
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length")))
            answers.append(await reader.readexactly(length))
        writer.close()
        assert answers == [b'{"hello": "world"}'] * 3

    arun(with_server(make_server(), body))


def test_request_size_is_bounded(arun) -> None:
    async def body(base: str) -> None:
        async with httpx.AsyncClient(base_url=base, timeout=5) as client:
            auth = {"Authorization": f"Bearer {TOKEN}"}
            assert (await client.post("/echo", content=b"x" * 100, headers=auth)).content == b"x" * 100
            too_big = await client.post("/echo", content=b"x" * 2000, headers=auth)
            assert too_big.status_code == 413
            huge_head = await client.get("/hello", headers={**auth, "X-Filler": "y" * 5000})
            assert huge_head.status_code == 431

            async def chunks():
                yield b"abc"

            chunked = await client.post("/echo", content=chunks(), headers=auth)
            assert chunked.status_code == 411

    arun(with_server(make_server(max_body=1000, max_head=4096), body))


def test_a_request_that_never_completes_is_dropped(arun) -> None:
    async def body(base: str) -> None:
        port = int(base.rsplit(":", 1)[1])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /hello HTTP/1.1\r\nHost: x\r\n")  # the blank line never comes
        await writer.drain()
        assert await asyncio.wait_for(reader.read(), 5) == b""  # closed by the server, no answer
        writer.close()

    arun(with_server(make_server(request_timeout=0.3), body))


def test_ranges_206_exact_bytes_416_outside_and_head(arun, tmp_path: Path) -> None:
    data = bytes(range(256)) * 4

    async def body(base: str) -> None:
        async with httpx.AsyncClient(base_url=base, timeout=5) as client:
            part = await client.get("/audio", headers={"Range": "bytes=100-199"})
            assert part.status_code == 206
            assert part.content == data[100:200]
            assert part.headers["content-range"] == "bytes 100-199/1024"
            assert part.headers["content-type"] == "audio/wav"
            tail = await client.get("/audio", headers={"Range": "bytes=-24"})
            assert (tail.status_code, tail.content) == (206, data[-24:])
            whole = await client.get("/audio")
            assert (whole.status_code, whole.content, whole.headers["accept-ranges"]) == (200, data, "bytes")
            for bad in ("bytes=2000-", "bytes=50-10", "bytes=abc", "lines=1-2"):
                refused = await client.get("/audio", headers={"Range": bad})
                assert refused.status_code == 416, bad
                assert refused.headers["content-range"] == "bytes */1024"
            head = await client.head("/audio", headers={"Range": "bytes=0-9"})
            assert (head.status_code, head.headers["content-length"], head.content) == (206, "10", b"")

    arun(with_server(make_server(tmp_path), body))


def test_parse_range() -> None:
    assert parse_range("bytes=0-0", 10) == (0, 0)
    assert parse_range("bytes=5-", 10) == (5, 9)
    assert parse_range("bytes=5-500", 10) == (5, 9)
    assert parse_range("bytes=-500", 10) == (0, 9)
    assert parse_range("bytes=-0", 10) is None
    assert parse_range("bytes=10-", 10) is None
    assert parse_range("bytes=-", 10) is None


def test_close_ends_idle_connections_and_frees_the_port(arun) -> None:
    async def scenario() -> None:
        server = make_server()
        await server.start()
        port = server.port
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(f"GET /hello?token={TOKEN} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        await reader.readuntil(b"\r\n\r\n")
        assert await reader.readexactly(18) == b'{"hello": "world"}'
        await server.close()  # with the keep-alive connection still open
        assert await asyncio.wait_for(reader.read(), 5) == b""
        writer.close()
        with socket.socket() as again:
            again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            again.bind(("127.0.0.1", port))

    arun(scenario())


def test_a_port_in_use_is_a_clear_error(arun) -> None:
    async def scenario() -> None:
        first = make_server()
        await first.start()
        try:
            second = HttpServer(HttpSettings(port=first.port), Router())
            with pytest.raises(SmdrError, match=f"cannot listen on 127.0.0.1:{first.port}"):
                await second.start()
        finally:
            await first.close()

    arun(scenario())


def test_router_refuses_duplicates_and_bad_paths() -> None:
    router = Router()

    async def handler(request: Request) -> Response:
        return json_response({})

    router.add("GET", "/x", handler)
    with pytest.raises(ValueError):
        router.add("get", "/x", handler)
    with pytest.raises(ValueError):
        router.add("GET", "x", handler)
    assert router.resolve("HEAD", "/x")[0] is not None
    assert router.resolve("POST", "/x") == (None, ["GET", "HEAD"])


def test_http_section(monkeypatch) -> None:
    section = load_text("http: {port: 8088, base_url: 'http://pc.office:8088/', token: 0123}\n", "smdr.yaml")
    settings = HttpSettings.from_section(section.section("http"))
    assert (settings.bind, settings.port, settings.base_url, settings.token) == (
        "127.0.0.1", 8088, "http://pc.office:8088", "0123")
    assert "0123" not in repr(settings)
    monkeypatch.setenv("SMDR_HTTP_TOKEN", "from-env")
    env = HttpSettings.from_section(load_text("http: {token_env: SMDR_HTTP_TOKEN}\n", "s.yaml").section("http"))
    assert env.token == "from-env" and HttpServer(env).base_url == "http://127.0.0.1:8470"
    for text, message in (("http: {base_url: 'ftp://x'}\n", "base_url"), ("http: {port: 70000}\n", "port"),
                          ("http: {token: a, token_env: B}\n", "only one"), ("http: {prot: 1}\n", "did you mean"),
                          ("http: {token_env: SMDR_NOT_SET_ANYWHERE}\n", "not set")):
        with pytest.raises(ConfigError, match=message):
            HttpSettings.from_section(load_text(text, "s.yaml").section("http"))


def test_link_tokens_are_per_name_and_survive_a_restart(tmp_path: Path) -> None:
    signer = LinkSigner.for_data_dir(tmp_path)
    token = signer.sign("2026/01/14/L1-0912.wav")
    assert signer.verify("2026/01/14/L1-0912.wav", token)
    assert not signer.verify("2026/01/14/L2-0912.wav", token)
    assert not signer.verify("2026/01/14/L1-0912.wav", "")
    assert LinkSigner.for_data_dir(tmp_path).verify("2026/01/14/L1-0912.wav", token)  # same key file


def test_smdr_run_serves_the_routes_of_its_router(arun, tmp_path: Path, caplog) -> None:
    from cli_support import REPO, write_file

    from smdr import config, daemon

    capture = REPO / "fixtures" / "panasonic" / "kx-ta.smdr"
    path = write_file(tmp_path / "smdr.yaml", f"""
        data_dir: data
        output: {tmp_path / 'calls.jsonl'}
        http: {{port: 0, token: {TOKEN}}}
        sources:
          - {{name: pbx, url: "file://{capture}", layout: panasonic-kx-ta}}
        """)
    settings = config.load(path)
    router = Router()

    async def status(request: Request) -> Response:
        return json_response({"ok": True})

    router.add("GET", "/probe", status)  # /status is the connector's own status page

    async def scenario() -> None:
        stop = asyncio.Event()
        with caplog.at_level(logging.INFO, logger="smdr.http"):
            running = asyncio.create_task(daemon.run(settings, stop=stop, router=router))
            port = None
            for _ in range(200):  # bounded: 10 s
                found = [r.args[1] for r in caplog.records if r.getMessage().startswith("http: listening")]
                if found:
                    port = found[0]
                    break
                await asyncio.sleep(0.05)
            assert port is not None
            async with httpx.AsyncClient(timeout=5) as client:
                answer = await client.get(f"http://127.0.0.1:{port}/probe", params={"token": TOKEN})
            assert answer.json() == {"ok": True}
            stop.set()
            assert await running == 0
        with socket.socket() as again:  # stopped with the daemon
            again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            again.bind(("127.0.0.1", port))
        assert TOKEN not in caplog.text

    arun(scenario())
