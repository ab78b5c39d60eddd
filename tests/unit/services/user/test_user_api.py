"""User over HTTP and gRPC against a real PostgreSQL."""

from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest
from conftest import GRPC_AS_A
from fastapi.testclient import TestClient

from miniapp_services.proto import user_pb2, user_pb2_grpc


@pytest.fixture(scope="module")
def client(make_client: Callable[..., TestClient]) -> Iterator[TestClient]:
    with make_client("user") as c:
        yield c


def test_first_login_registers_then_finds(client: TestClient) -> None:
    first = client.post("/users", json={"openid": "oid-u1", "nickname": " Ann "})
    again = client.post("/users", json={"openid": "oid-u1", "nickname": "Other"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json() == {"id": first.json()["id"], "openid": "oid-u1", "nickname": "Ann"}
    assert client.get(f"/users/{first.json()['id']}").json()["openid"] == "oid-u1"
    assert client.get("/users/by-openid/oid-u1").json()["id"] == first.json()["id"]


def test_get_user_over_grpc(client: TestClient) -> None:
    user_id = client.post("/users", json={"openid": "oid-u2", "nickname": "Bo"}).json()["id"]
    with grpc.insecure_channel(f"127.0.0.1:{client.app.state.grpc_port}") as channel:
        stub = user_pb2_grpc.UsersStub(channel)
        assert stub.GetUser(user_pb2.GetUserRequest(id=user_id), metadata=GRPC_AS_A, timeout=2).nickname == "Bo"
        with pytest.raises(grpc.RpcError) as err:
            stub.GetUser(user_pb2.GetUserRequest(id=987654), metadata=GRPC_AS_A, timeout=2)
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "field"),
    [
        ("post", "/users", {"openid": "oid-x"}, 422, "nickname"),
        ("post", "/users", {"openid": "oid-x", "nickname": "   "}, 400, "nickname"),
        ("post", "/users", {"openid": "oid-x", "nickname": "n" * 33}, 422, "nickname"),
        ("post", "/users", {"openid": "bad openid", "nickname": "n"}, 422, "openid"),
        ("post", "/users", {"openid": 5, "nickname": "n"}, 422, "openid"),
        ("get", "/users/0", None, 422, "user_id"),
        ("get", "/users/abc", None, 422, "user_id"),
        ("get", "/users/99999999", None, 404, "id"),
        ("get", "/users/by-openid/nobody", None, 404, "openid"),
    ],
)
def test_bad_input_is_4xx_naming_the_field(
    refused: Callable[..., None], method: str, path: str, body: dict[str, Any] | None, status: int, field: str
) -> None:
    refused(method, path, body, status, field)
