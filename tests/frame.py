"""What every patient page must carry, checked on the HTML."""

CRISIS_LINKS = ('href="tel:988"', 'href="sms:988"', 'href="tel:911"', 'href="/crisis/"')


def assert_frame(html: str) -> None:
    for link in CRISIS_LINKS:
        assert link in html, f"crisis resource {link} missing"
    assert 'class="visually-hidden-focusable skip-link" href="#main"' in html
    assert '<main id="main"' in html
    assert '<nav aria-label="Main">' in html
    assert "(555) 010-0199" in html  # the clinic's phone, from CLINIC_PHONE
