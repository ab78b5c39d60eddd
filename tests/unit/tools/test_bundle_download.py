"""Downloads against a loopback HTTP server: a good file, a wrong checksum, an interrupted transfer."""

import hashlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tools.bundle_download import DownloadError, download

BODY = b"artifact-bytes" * 4096


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        # /cut sends half the promised body, then hangs up: an interrupted transfer.
        self.wfile.write(BODY[: len(BODY) // 2] if self.path == "/cut" else BODY)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_good_download_is_kept(server, tmp_path):
    dest = download(f"{server}/file", tmp_path / "a.tar.gz", hashlib.sha256(BODY).hexdigest())
    assert dest.read_bytes() == BODY
    assert not (tmp_path / "a.tar.gz.part").exists()


def test_wrong_checksum_is_named_and_nothing_kept(server, tmp_path):
    with pytest.raises(DownloadError, match=r"a.tar.gz: sha256 [0-9a-f]{64} from .* does not match the table's 0{64}"):
        download(f"{server}/file", tmp_path / "a.tar.gz", "0" * 64)
    assert list(tmp_path.iterdir()) == []


def test_interrupted_transfer_is_named_and_nothing_kept(server, tmp_path):
    with pytest.raises(DownloadError, match=r"a.tar.gz: .*(interrupted|failed)"):
        download(f"{server}/cut", tmp_path / "a.tar.gz", hashlib.sha256(BODY).hexdigest())
    assert list(tmp_path.iterdir()) == []


def test_unreachable_source_is_named(tmp_path):
    with pytest.raises(DownloadError, match=r"a.tar.gz: download from http://127.0.0.1:9/x failed"):
        download("http://127.0.0.1:9/x", tmp_path / "a.tar.gz", None, timeout=2)
