"""verify_live against a stand-in backend whose /version changes as a deploy would."""

from __future__ import annotations

import random

import httpx
import pytest

from hubship.deploy import verify_live
from hubship.deploy.verify import read_version
from hubship.errors import VerifyError
from hubship.services import free_port
from hubship.serving.answers import VersionNotReady
from tests.support.standin import Reply, Request, version_answer

OLD, NEW = "1" * 40, "2" * 40


version = version_answer


def serving(*answers: Reply):
    """Answer /version with `answers` in turn, then keep giving the last one."""
    queue = list(answers)

    def respond(request: Request) -> Reply:
        assert (request.method, request.path) == ("GET", "/version")
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return respond


def test_succeeds_once_production_switches_to_the_sha(standin, client):
    old = Reply(200, version(OLD, tag="v1"))
    standin.responder = serving(old, old, old, Reply(200, version(NEW, tag="v2")))

    answer = verify_live(standin.url, NEW, timeout=30, interval=0.01, client=client,
                         progress=False)

    assert answer.sha == NEW and answer.tag == "v2"
    assert len(standin.requests) == 4


def test_an_abbreviated_sha_is_enough(standin, client):
    standin.responder = serving(Reply(200, version(NEW, tag="v2")))
    answer = verify_live(standin.url, NEW[:12], timeout=5, interval=0.01, client=client,
                         progress=False)
    assert answer.sha == NEW


def test_fails_with_what_production_serves_instead(standin, client):
    standin.responder = serving(Reply(200, version(OLD, tag="v1")))
    with pytest.raises(VerifyError) as caught:
        verify_live(standin.url, NEW, timeout=0.3, interval=0.05, client=client, progress=False)

    message = caught.value.message
    assert "still serves" in message and OLD[:12] in message and NEW[:12] in message
    assert "v1" in message and "from hub" in message
    assert "deploy logs" in caught.value.hint


def test_a_fallback_release_points_at_the_hub_settings(standin, client):
    standin.responder = serving(Reply(200, version(OLD, tag="v1", source="bundled")))
    with pytest.raises(VerifyError) as caught:
        verify_live(standin.url, NEW, timeout=0.2, interval=0.05, client=client, progress=False)
    assert "from bundled" in caught.value.message
    assert "HF_TOKEN" in caught.value.hint


UNREACHABLE = "the Hub at https://huggingface.co did not answer; retrying in 4 s"


def not_ready(replica: str) -> Reply:
    """A backend's 503 before its first release is loaded, built with the backend's model."""
    return Reply(503, VersionNotReady(reason=UNREACHABLE, replica=replica,
                                      revision="main").model_dump(mode="json"))


def test_a_backend_with_nothing_loaded_says_so_and_which_replica(standin, client):
    standin.responder = serving(not_ready("web-1"))
    with pytest.raises(VerifyError) as caught:
        verify_live(standin.url, NEW, timeout=0.2, interval=0.05, client=client, progress=False)
    assert f"replica web-1 has no release loaded ({UNREACHABLE})" in caught.value.message
    # a backend older than VersionNotReady answered {"detail": ...}: still read
    older = read_version(httpx.Response(503, json={"detail": UNREACHABLE}))
    assert older == f"up, but no release loaded ({UNREACHABLE})"


def test_replicas_list_the_one_that_has_no_release_loaded(standin, client):
    standin.responder = serving(*[on("web-a", NEW), not_ready("web-b")] * 50)
    with pytest.raises(VerifyError) as caught:
        verify_live(standin.url, NEW, timeout=0.3, interval=0.01, client=client, progress=False,
                    replicas=2)
    message = caught.value.message
    assert "1 of the 2 replicas seen serve it" in message
    assert f"web-a: {NEW[:12]} (v2" in message
    assert f"web-b: no release loaded ({UNREACHABLE})" in message
    assert caught.value.hint.startswith("web-b had no release loaded")


def test_fails_clearly_when_nothing_answers():
    url = f"http://127.0.0.1:{free_port()}"
    with httpx.Client(timeout=1) as http, pytest.raises(VerifyError) as caught:
        verify_live(url, NEW, timeout=0.2, interval=0.05, client=http, progress=False)
    assert "did not serve" in caught.value.message and "no answer" in caught.value.message
    assert "BACKEND_URL" in caught.value.hint


def on(replica: str, sha: str) -> Reply:
    return Reply(200, version(sha, tag="v2" if sha == NEW else "v1", replica=replica))


def test_replicas_need_that_many_distinct_replicas_on_the_sha(standin, client):
    # one replica answering the new sha again and again is not three replicas; "b" answers
    # the new sha, then the old one (its last answer counts), then the new one again
    standin.responder = serving(on("a", NEW), on("a", NEW), on("a", NEW), on("b", NEW),
                                on("b", OLD), on("a", NEW), on("c", NEW), on("b", NEW))

    verify_live(standin.url, NEW, timeout=30, interval=0.01, client=client, progress=False,
                replicas=3)

    assert len(standin.requests) == 8
    # each request on a new connection, so a load balancer may route it to another replica
    assert all(r.headers.get("connection") == "close" for r in standin.requests)


def test_a_balancer_that_picks_at_random_shows_every_replica_within_a_few_rounds(standin,
                                                                                client):
    # Railway spreads requests at random among a region's replicas: asking once per interval
    # would take many intervals to meet all five; a round asks as many times as replicas
    pick = random.Random(7)
    standin.responder = lambda request: on(f"web-{pick.randrange(5)}", NEW)
    verify_live(standin.url, NEW, timeout=2.5, interval=0.5, client=client, progress=False,
                replicas=5)
    assert len(standin.requests) > 5  # more than one round was needed, and it was enough


def test_replicas_that_disagree_fail_naming_what_each_serves(standin, client):
    standin.responder = serving(*[on("web-a", NEW), on("web-b", OLD)] * 50)
    with pytest.raises(VerifyError) as caught:
        verify_live(standin.url, NEW, timeout=0.3, interval=0.01, client=client, progress=False,
                    replicas=2)
    message = caught.value.message
    assert "1 of the 2 replicas seen serve it" in message
    assert f"web-a: {NEW[:12]} (v2" in message and f"web-b: {OLD[:12]} (v1" in message
    assert "MODEL_POLL_SECONDS" in caught.value.hint


def test_more_replicas_than_answer_times_out_naming_those_seen(standin, client):
    standin.responder = serving(*[on("web-a", NEW), on("web-b", NEW)] * 50)
    with pytest.raises(VerifyError) as caught:
        verify_live(standin.url, NEW, timeout=0.3, interval=0.01, client=client, progress=False,
                    replicas=3)
    assert "2 of the 2 replicas seen serve it" in caught.value.message
    assert "web-a" in caught.value.message and "web-b" in caught.value.message
    assert "only 2 distinct replicas answered" in caught.value.hint
    assert "HUBSHIP_VERIFY_REPLICAS" in caught.value.hint


def test_a_backend_that_names_no_replica_is_told_to_upgrade(standin, client):
    unnamed = version(NEW, tag="v2")
    del unnamed["replica"]
    standin.responder = serving(Reply(200, unnamed))
    with pytest.raises(VerifyError) as caught:
        verify_live(standin.url, NEW, timeout=0.2, interval=0.01, client=client, progress=False,
                    replicas=2)
    assert "(unnamed)" in caught.value.message and "upgrade" in caught.value.hint


def test_progress_shows_what_production_serves(standin, client, capsys):
    old = Reply(200, version(OLD, tag="v1"))
    standin.responder = serving(old, Reply(200, version(NEW, tag="v2")))
    verify_live(standin.url, NEW, timeout=30, interval=0.01, client=client)
    err = capsys.readouterr().err
    assert f"{OLD[:12]} (v1, release 1, from hub)" in err
    assert f"production serves {NEW[:12]}" in err
