"""Staff-written Markdown can format text but can never run script in a patient's browser."""

import pytest

from education.markdown import render_markdown


@pytest.mark.parametrize(
    "dangerous",
    [
        "<script>alert(1)</script>",
        '<img src="x" onerror="alert(1)">',
        "[click](javascript:alert(1))",
        '<a href="JaVaScRiPt:alert(1)">click</a>',
        '<a href="java\tscript:alert(1)">click</a>',
        "<iframe src='https://evil.example'></iframe>",
        '<p onclick="alert(1)">text</p>',
        "<style>body{display:none}</style>",
        '<svg onload="alert(1)"></svg>',
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    ],
)
def test_dangerous_markup_renders_inert(dangerous):
    html = render_markdown(f"Before {dangerous} after")
    lowered = html.lower()
    assert "<script" not in lowered
    assert "<iframe" not in lowered
    assert "<style" not in lowered
    assert "<svg" not in lowered
    assert "<img" not in lowered
    assert "onerror" not in lowered and "onclick" not in lowered and "onload" not in lowered
    assert "javascript:" not in lowered.replace("\t", "")
    assert "data:text/html" not in lowered
    assert "Before" in html and "after" in html


def test_formatting_and_safe_links_survive():
    html = render_markdown(
        "## Heading\n\n- **one**\n- *two*\n\n[Screening](/screening/) and [PubMed](https://pubmed.ncbi.nlm.nih.gov/)"
    )
    assert "<h2>Heading</h2>" in html
    assert "<li><strong>one</strong></li>" in html
    assert '<a href="/screening/" rel="noopener noreferrer">Screening</a>' in html
    assert 'href="https://pubmed.ncbi.nlm.nih.gov/"' in html


def test_a_level_one_heading_is_not_allowed_in_a_body():
    # The page title is the only <h1>; a body's "# Title" must not add a second one.
    assert "<h1" not in render_markdown("# Second title")
