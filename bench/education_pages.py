"""Benchmark: an article page against a bare Django view, on one production-configured gunicorn.

Also measures what a patient's browser downloads for each education page: requests and
compressed bytes. Run with `make bench-education`; figures are recorded in bench/README.md.
"""

import statistics
from html.parser import HTMLParser

from harness import fetch, production_server, wrk

ARTICLE = "/learn/what-a-session-is-like/"
PAGES = ["/", "/learn/", ARTICLE, "/learn/how-ketamine-works/", "/conditions/", "/conditions/depression/", "/faq/"]
ROUNDS = 3


class Resources(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "link" and attrs.get("rel") == "stylesheet" or tag == "script" and attrs.get("src"):
            self.urls.append(attrs.get("href") or attrs.get("src"))


def page_weight(base: str, path: str) -> tuple[int, int]:
    """(requests, bytes on the wire) for a page and everything it loads, with gzip accepted."""
    _, headers, html = fetch(base + path, **{"Accept-Encoding": "gzip"})
    parser = Resources()
    parser.feed(html.decode())
    total, requests = len(html), 1
    for url in parser.urls:
        assert url.startswith("/") and not url.startswith("//"), url
        _, _, body = fetch(base + url, **{"Accept-Encoding": "gzip"})
        total += len(body)  # urllib does not decompress: this is the compressed size
        requests += 1
    return requests, total


def main() -> None:
    with production_server() as (base, _env):
        for path in PAGES:  # warm the page cache
            fetch(base + path)
        bare, article = [], []
        for _ in range(ROUNDS):  # interleaved, so drift in the machine affects both alike
            bare.append(wrk(base + "/bench/bare"))
            article.append(wrk(base + ARTICLE))
        weights = {path: page_weight(base, path) for path in PAGES}

    bare_rps, article_rps = statistics.median(bare), statistics.median(article)
    print(f"bare view:    {bare_rps:8.0f} req/s (runs: {', '.join(f'{v:.0f}' for v in bare)})")
    print(f"article page: {article_rps:8.0f} req/s (runs: {', '.join(f'{v:.0f}' for v in article)})")
    print(f"ratio:        {article_rps / bare_rps:8.2f}x   (target >= 0.80x)")
    print("\n| page | requests | bytes on the wire (gzip) |\n|---|---|---|")
    for path, (requests, size) in weights.items():
        print(f"| `{path}` | {requests} | {size / 1024:.1f} KB |")
    worst = max(size for _, size in weights.values())
    most = max(requests for requests, _ in weights.values())
    print(f"\nheaviest page: {worst / 1024:.1f} KB (target <= 120 KB); most requests: {most} (target <= 5)")


if __name__ == "__main__":
    main()
