"""Return URLs: the function accepts one only where it and a browser read the same origin.

Every row goes over real HTTP to the function. Accepted rows are also parsed by the WHATWG URL
parser (Node's `URL`, what a browser does with the portal's redirect): its origin must be the
allowed origin the function matched. A hypothesis property checks the same agreement on generated
strings against the function's own parser.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing_portal.settings import web_origin
from tests.function.conftest import APP_ORIGIN
from tests.support.browser_url import browser_origins

LOCAL_ORIGINS = ("http://localhost:5173", "http://127.0.0.1:8080")
ALLOWED_RETURN_ORIGINS = ",".join((APP_ORIGIN, *LOCAL_ORIGINS))

ACCEPTED = [
    (f"{APP_ORIGIN}/settings/billing", APP_ORIGIN),
    (APP_ORIGIN, APP_ORIGIN),
    (f"{APP_ORIGIN}/", APP_ORIGIN),
    ("HTTPS://App.Example.Test/x?y=1#z", APP_ORIGIN),  # scheme and host are case-insensitive
    (f"{APP_ORIGIN}:443/x", APP_ORIGIN),  # the default port is the same origin
    (f"{APP_ORIGIN}/@evil.example", APP_ORIGIN),  # '@' in the path is not userinfo
    (f"{APP_ORIGIN}?@evil.example/", APP_ORIGIN),
    (f"{APP_ORIGIN}#@evil.example/", APP_ORIGIN),
    (f"{APP_ORIGIN}/a/../../b", APP_ORIGIN),
    (f"{APP_ORIGIN}/%5C%2F%0A", APP_ORIGIN),  # percent-encoded, so inert
    ("http://localhost:5173/back", "http://localhost:5173"),
    ("http://127.0.0.1:8080/x", "http://127.0.0.1:8080"),
]

# What a browser would make of the dangerous ones is in the comment.
REFUSED = [
    "https://evil.example\\@app.example.test/x",  # browser: https://evil.example
    "https://evil.example\\.app.example.test/",
    f"{APP_ORIGIN}/back\\slash",  # browser: /back/slash; refused anyway: '\' is never plain
    f"{APP_ORIGIN}\\@evil.example/",
    "https://user@app.example.test/",
    "https://user:pass@app.example.test/",
    "https://@app.example.test/",
    "https://:@app.example.test/",
    "https://evil.example@app.example.test/",
    "https://app.example.test@evil.example/",
    "https://evil.example%5C@app.example.test/",
    "https:/app.example.test/x",  # browser: https://app.example.test
    "https:///app.example.test/x",  # browser: https://app.example.test
    "https:app.example.test/x",
    "//app.example.test/x",
    "/settings/billing",
    "app.example.test/x",
    "https://app%2Eexample.test/",  # browser: https://app.example.test
    "https://app.example.test./x",  # trailing dot: another origin to a browser
    "https://app.example.test\t/x",  # the WHATWG parser strips tab and newline...
    "https://app.ex\nample.test/x",  # ...so this one is app.example.test to a browser
    "https://app.example.test/x\r",
    " https://app.example.test/x",
    "https://app.example.test/x ",
    "https://app.example.test/a b",
    "https://app.example.test\x00/",
    "https://app.example.test/\x7f",
    "https://app.example.test/ä",  # non-ASCII: percent-encode it
    "https://äpp.example.test/",
    "https://app.example.test:/x",  # empty port
    "https://app.example.test:0443/x",  # leading zero
    "https://app.example.test:99999/x",
    "http://app.example.test/x",  # plain http off localhost
    "ftp://app.example.test/x",
    "javascript:alert(1)//app.example.test/",
    "https://evil.example/",
    "https://app.example.test.evil.example/",
    "http://[::1]:5173/",  # IPv6 literals: never plain enough
    "http://[0:0::1]:5173/",
    "http://127.1:8080/x",  # browser: 127.0.0.1
    "http://0x7f.0.0.1:8080/x",
    "http://2130706433:8080/x",
    "http://localhost.:5173/x",
    "http://LOCALHOST:5173\\@evil.example/",
]


@pytest.fixture(scope="module")
def return_server(function_factory):
    """A function whose return URLs may point at the app and two local origins."""
    return function_factory("return-urls", ALLOWED_RETURN_ORIGINS=ALLOWED_RETURN_ORIGINS)


def test_the_accepted_rows_are_the_same_origin_to_a_browser():
    browser = browser_origins([url for url, _ in ACCEPTED])
    assert browser == [origin for _, origin in ACCEPTED]


@pytest.mark.integration
@pytest.mark.parametrize(("url", "origin"), ACCEPTED, ids=[url for url, _ in ACCEPTED])
def test_a_plain_return_url_on_an_allowed_origin_is_accepted(
    return_server, dev_issuer, new_uid, url, origin
):
    response = return_server.post(dev_issuer.mint(new_uid), {"return_url": url})
    assert response.status_code == 200, response.text


@pytest.mark.integration
@pytest.mark.parametrize("url", REFUSED, ids=[repr(url) for url in REFUSED])
def test_a_return_url_a_browser_could_read_differently_is_400(
    return_server, dev_issuer, new_uid, url
):
    response = return_server.post(dev_issuer.mint(new_uid), {"return_url": url})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "return_url_not_allowed"


# Pieces that make parsers disagree, glued together at random.
_PIECES = st.sampled_from(
    [
        "https:",
        "http:",
        "HTTPS:",
        "//",
        "/",
        "\\",
        "@",
        ":",
        ".",
        "?",
        "#",
        "%",
        "%2e",
        "%5c",
        "[",
        "]",
        " ",
        "\t",
        "\n",
        "\x00",
        "ä",
        "app",
        "example",
        "test",
        "evil",
        "localhost",
        "127",
        "0x7f",
        "1",
        "443",
        "8080",
        "-",
        "xyz",
    ]
)
_URLS = st.lists(_PIECES, min_size=1, max_size=14).map("".join)


@settings(max_examples=25, deadline=None)
@given(st.lists(_URLS, min_size=40, max_size=40))
def test_whatever_the_function_reads_as_an_origin_a_browser_reads_the_same(urls):
    ours = [web_origin(url) for url in urls]
    accepted = [(url, origin) for url, origin in zip(urls, ours, strict=True) if origin]
    browser = browser_origins([url for url, _ in accepted])
    for (url, origin), seen in zip(accepted, browser, strict=True):
        assert seen == origin, url


@settings(max_examples=15, deadline=None)
@given(
    st.lists(
        st.builds(
            lambda scheme, host, port, rest: f"{scheme}://{host}{port}{rest}",
            st.sampled_from(["http", "https", "HTTPS"]),
            st.from_regex(r"[a-zA-Z0-9-]{1,8}(\.[a-zA-Z0-9-]{1,8}){0,3}", fullmatch=True),
            st.sampled_from(["", ":80", ":443", ":8080", ":1"]),
            st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=20),
        ),
        min_size=40,
        max_size=40,
    )
)
def test_well_formed_looking_urls_agree_with_a_browser_too(urls):
    ours = [web_origin(url) for url in urls]
    accepted = [(url, origin) for url, origin in zip(urls, ours, strict=True) if origin]
    browser = browser_origins([url for url, _ in accepted])
    for (url, origin), seen in zip(accepted, browser, strict=True):
        assert seen == origin, url
