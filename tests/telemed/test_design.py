"""The design system: its colours keep WCAG AA contrast, the stylesheet is built from Bootstrap's
Sass with only what the pages use, the font is ours, and a patient page stays light."""

import gzip
import io
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings

PROJECT = Path(__file__).resolve().parents[2]
TOKENS = PROJECT / "static/scss/_tokens.scss"
BUILT_CSS = PROJECT / "static/build/site.min.css"
FONT = PROJECT / "static/fonts/source-serif-4-latin-600-normal.woff2"
BRAND = PROJECT / "static/img/brand.svg"

# Every pair of text (first) on background (second) that the stylesheet uses, by token name.
TEXT_PAIRS = [
    ("ink", "cream"),
    ("ink", "white"),
    ("ink", "sand"),
    ("ink", "teal-wash"),
    ("ink-muted", "cream"),
    ("ink-muted", "white"),
    ("ink-muted", "sand"),
    ("teal", "cream"),  # links
    ("teal", "white"),
    ("teal", "sand"),
    ("teal-dark", "teal-wash"),  # hovered navigation, screening's current step, primary alerts
    ("teal-dark", "white"),
    ("white", "teal"),  # buttons, the current navigation item, the open menu button
    ("white", "teal-dark"),
    ("cream", "teal"),
    ("clay", "cream"),
    ("clay", "white"),
    ("crisis-text", "crisis-bg"),
    ("crisis-link", "crisis-bg"),
    ("danger", "white"),
    ("danger", "cream"),
    ("danger", "danger-wash"),  # the crisis panel, danger alerts
    ("white", "danger"),  # the "Call 988" button
    ("success", "success-wash"),
    ("success", "white"),
    ("success", "cream"),
    ("warning-text", "warning-wash"),
    ("info-text", "info-wash"),
    ("warning", "white"),
    ("warning", "cream"),
    ("focus", "white"),
]
# Not text, but what a person must see (WCAG 1.4.11): 3:1.
GRAPHIC_PAIRS = [("field-line", "white"), ("field-line", "cream"), ("focus", "cream")]
# Colours that are surfaces or lines only (never text), so need no text pair of their own.
SURFACES = {"sand-line"}


def read_tokens() -> dict[str, str]:
    return dict(re.findall(r"^\$tm-([a-z-]+):\s*(#[0-9a-fA-F]{6})\s*;", TOKENS.read_text(), re.MULTILINE))


def luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first: str, second: str) -> float:
    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_contrast_is_computed_as_wcag_defines_it():
    assert contrast("#000000", "#ffffff") == pytest.approx(21)
    assert contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)  # the lightest AA grey on white


@pytest.mark.parametrize(("text", "background"), TEXT_PAIRS)
def test_every_text_colour_meets_aa_on_its_backgrounds(text, background):
    tokens = read_tokens()
    assert contrast(tokens[text], tokens[background]) >= 4.5, (text, background)


@pytest.mark.parametrize(("colour", "background"), GRAPHIC_PAIRS)
def test_field_edges_and_the_focus_ring_are_visible(colour, background):
    tokens = read_tokens()
    assert contrast(tokens[colour], tokens[background]) >= 3, (colour, background)


def test_every_colour_token_has_its_pairs_checked():
    checked = {name for pair in TEXT_PAIRS + GRAPHIC_PAIRS for name in pair} | SURFACES
    assert set(read_tokens()) <= checked, "add the new colour's text/background pairs to TEXT_PAIRS"


def test_the_stylesheet_uses_only_tokens_for_colour():
    """Raw colours live in _tokens.scss; the site's own partials name tokens (print styles aside)."""
    for partial in (PROJECT / "static/scss").glob("_*.scss"):
        if partial.name in ("_tokens.scss", "_print.scss"):
            continue
        assert not re.search(r"#[0-9a-fA-F]{3,6}\b", partial.read_text()), partial.name


@pytest.fixture(scope="module")
def built_css() -> str:
    if not BUILT_CSS.exists():
        pytest.fail("static/build/site.min.css is missing: run `make css` (make test and make run do it)")
    return BUILT_CSS.read_text()


def test_the_stylesheet_is_bootstrap_with_our_tokens(built_css):
    assert "Bootstrap" in built_css[:300]  # its licence banner is kept
    teal = read_tokens()["teal"]
    assert re.search(r"--bs-primary:\s*" + teal, built_css)  # Bootstrap's primary is our teal
    assert re.search(r"--tm-teal:\s*" + teal, built_css)  # the tokens as custom properties, for page rules
    assert "Source Serif 4" in built_css


@pytest.mark.parametrize(
    "selector",
    [".form-control", ".form-select", ".form-check-input", ".invalid-feedback", ".is-invalid", ".form-text",
     ".input-group", ".alert-danger", ".btn-primary", ".btn-outline-danger", ".card-body", ".breadcrumb",
     ".table-sm", ".visually-hidden-focusable", ".col-md-6", ".d-flex", ".mb-3", ".text-body-secondary"],
)  # fmt: skip
def test_what_the_templates_and_crispy_forms_use_is_built(built_css, selector):
    assert re.search(re.escape(selector) + r"[{,:>.\[ ]", built_css), selector


@pytest.mark.parametrize(
    "selector", [".modal", ".navbar", ".carousel", ".dropdown-menu", ".offcanvas", ".toast", ".popover", ".tooltip"]
)
def test_unused_components_are_left_out(built_css, selector):
    assert selector + "{" not in built_css


def test_the_stylesheet_shrank(built_css):
    # The full Bootstrap 5.3.8 CSS plus our rules was 32.0 KB gzipped (238 KB raw).
    assert len(gzip.compress(built_css.encode(), 9)) <= 22 * 1024


def test_the_font_is_ours_woff2_with_its_licence(built_css):
    assert FONT.read_bytes()[:4] == b"wOF2"
    assert FONT.stat().st_size <= 25 * 1024
    assert "SIL Open Font License" in (PROJECT / "static/fonts/OFL-source-serif-4.txt").read_text()
    faces = re.findall(r"@font-face\{[^}]*\}", built_css)
    assert faces and all("font-display:swap" in face and ".woff2" in face for face in faces)
    assert "url(../fonts/source-serif-4-latin-600-normal.woff2)" in faces[0].replace('"', "")


def svg_shapes(markup: str) -> list[str]:
    return re.findall(r"<(?:circle|path|rect)\b[^>]*>", markup)


@pytest.mark.django_db
def test_the_brand_mark_in_the_header_is_the_brand_file(client):
    html = client.get("/").content.decode()
    header = html[html.index("<header") : html.index("</header>")]
    brand = header[header.index('class="site-brand"') :]
    inline = brand[brand.index("<svg") : brand.index("</svg>")]
    assert svg_shapes(inline) == svg_shapes(BRAND.read_text())
    assert 'aria-hidden="true"' in inline  # the clinic's name beside it is the link's text


class Loads(HTMLParser):
    """What a browser fetches by itself for a page: stylesheets, preloads, scripts, images, frames."""

    def __init__(self):
        super().__init__()
        self.addresses: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "link" and attributes.get("rel") in ("stylesheet", "preload", "icon", "modulepreload"):
            self.addresses.append(attributes["href"])
        elif tag in ("script", "img", "iframe", "source") and attributes.get("src"):
            self.addresses.append(attributes["src"])


def static_bytes(client, address: str) -> bytes:
    response = client.get(address)
    assert response.status_code == 200, address
    return b"".join(response.streaming_content) if response.streaming else response.content


def page_weight(client, path: str) -> tuple[set[str], int]:
    """(addresses fetched besides the HTML, bytes on the wire gzipped) for one patient page."""
    response = client.get(path)
    assert response.status_code == 200, path
    html = response.content.decode()
    loads = Loads()
    loads.feed(html)
    addresses = {address for address in loads.addresses if not address.startswith("data:")}
    total = len(gzip.compress(response.content, 6))
    for address in sorted(addresses):
        body = static_bytes(client, address)
        if address.endswith(".css"):  # what the stylesheet itself loads: fonts, images
            base = address.rsplit("/", 1)[0]
            for url in re.findall(r"url\(\"?([^)\"]+)\"?\)", body.decode()):
                if not url.startswith("data:"):
                    addresses.add(str(Path(base, url)).replace("/build/../", "/"))
        total += len(body) if address.endswith(".woff2") else len(gzip.compress(body, 6))
    fonts_from_css = {address for address in addresses if address.endswith(".woff2")} - set(loads.addresses)
    total += sum(len(static_bytes(client, font)) for font in fonts_from_css)
    return addresses, total


def screened(client) -> None:
    """The session a screening leaves: booking's time picker opens (with its one script)."""
    from tests.screening import personas
    from tests.screening.test_flow import complete

    screening = complete(client, personas.ELIGIBLE)
    client.get(f"/book/?screening={screening.token}")


PATIENT_PAGES = [
    "/",
    "/crisis/",
    "/learn/",
    "/learn/what-a-session-is-like/",
    "/conditions/",
    "/faq/",
    "/screening/",
    "/book/",
    "/screening/step/about/",
    "/book/consultation/",
    "/my/",
]


@pytest.mark.django_db
@pytest.mark.parametrize("path", PATIENT_PAGES)
def test_a_patient_page_stays_light_and_same_origin(client, seeded_site, celery_eager, path):
    if path.startswith("/book/consultation/"):
        screened(client)
    addresses, total = page_weight(client, path)
    assert len(addresses) + 1 <= 5, addresses  # the HTML and what it loads
    assert all(address.startswith("/static/") for address in addresses), addresses
    assert total <= 120 * 1024, f"{path}: {total / 1024:.1f} KB"


@pytest.fixture
def seeded_site(db):
    """The demo clinic (seed_demo): real articles, appointment types and clinicians' hours."""
    with override_settings(DEBUG=True):
        call_command("seed_demo", stdout=io.StringIO())
