"""End to end in a real headless Chromium (Debian `chromium`), driven by Playwright's Python API.

The test starts the app itself (tiny catalog, fresh store, the real default LLM with small token
budgets), then, as a person would: opens it, starts as a new user, tells it something to remember
(with HTML in it), sends a request with the keyboard (Enter, twice in a row), sees the reasoning
trace (with the remembered entry, its level and id) and the item cards, gives 👎 to an item, sees
that in the memory panel, reloads the page and finds the same user and memory, checks the dark
theme, picks a dataset user from the picker (one-line summaries), and finally forgets that user.
Along the way: no script in a message or memory entry ever runs (no dialog opens) and it shows as
literal text, every control has a label, and text contrast is readable in light and dark; an empty
send shows a hint; the reasoning trace is one collapsed thought with a summary line, memory ids are
short chips with the full id as their title; destructive buttons are marked; at 400 px nothing is
cut off. Screenshots of the main states at 1400 px and 400 px go to test-output/screenshots/
(gitignored).

Skipped only when /usr/bin/chromium is absent (`.ci/run` installs it).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from test_ui_api import AppProcess, app_args

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SHOTS = Path(__file__).resolve().parents[1] / "test-output" / "screenshots"
MEMORY_NOTE = "I love heist films <img src=x onerror=alert('memory')> **not bold**"
REQUEST = "A tense crime thriller, please <script>alert('chat')</script> <img src=x onerror=alert(1)> **bold**"

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed at /usr/bin/chromium "
                                                              "(apt-get install chromium; .ci/run does this)")

# WCAG contrast of an element's text against the first opaque background behind it.
CONTRAST_JS = """(selectors) => {
  const parse = (c) => { const m = c.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
    const p = m[1].split(',').map(Number); return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
  const lum = (c) => { const f = (v) => { v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
  const background = (el) => { for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor); if (c && c.a > 0.9) return c; }
    return parse(getComputedStyle(document.body).backgroundColor) || {r: 255, g: 255, b: 255, a: 1}; };
  const out = {};
  for (const sel of selectors) {
    const el = document.querySelector(sel);
    if (!el) { out[sel] = null; continue; }
    const fg = parse(getComputedStyle(el).color), bg = background(el);
    const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
    out[sel] = (hi + 0.05) / (lo + 0.05);
  }
  return out;
}"""

# Visible form controls without an accessible name, and buttons without text or a label.
UNLABELLED_JS = """() => {
  const visible = (e) => e.offsetParent !== null;
  const bad = [];
  for (const e of document.querySelectorAll('input, textarea, select')) {
    if (!visible(e) || e.type === 'hidden' || e.type === 'file') continue;
    const named = (e.labels && e.labels.length) || e.getAttribute('aria-label') || e.getAttribute('aria-labelledby');
    if (!named) bad.push(e.outerHTML.slice(0, 120));
  }
  for (const b of document.querySelectorAll('button')) {
    if (!visible(b)) continue;
    // Gradio's own expand arrow inside a thought's title: the title (role=button) carries the name.
    const owner = b.parentElement && b.parentElement.closest('[role=button]');
    if (owner && owner.innerText.trim()) continue;
    if (!(b.innerText.trim() || b.getAttribute('aria-label') || b.getAttribute('title')))
      bad.push(b.outerHTML.slice(0, 120));
  }
  return bad;
}"""

# Visible controls and labels that stick out of the viewport or are clipped by their own box.
CUT_OFF_JS = """() => {
  const W = document.documentElement.clientWidth, bad = [];
  const sel = '#composer, #message, #send, #stop, #memory-history, #memory-history label, #memory-search, '
    + '#memory-level, #forget, #export, .mr-fb-row button, .mr-card, #pick-user, #new-user, #memory-table';
  for (const e of document.querySelectorAll(sel)) {
    if (e.offsetParent === null) continue;
    const r = e.getBoundingClientRect();
    if (r.left < -1 || r.right > W + 1) bad.push(`${e.id || e.className} spans ${r.left|0}..${r.right|0} of ${W}`);
  }
  for (const e of document.querySelectorAll('#memory-history label span, button')) {
    if (e.offsetParent === null) continue;
    if (e.scrollWidth > e.clientWidth + 2 && getComputedStyle(e).overflow !== 'visible')
      bad.push(`${e.innerText.slice(0, 40)} clipped`);
  }
  if (document.documentElement.scrollWidth > W + 1) bad.push(`page scrolls sideways: ${document.documentElement.scrollWidth}`);
  return bad;
}"""

TEXT_SELECTORS = ["#who p", "#memory-summary p", "#chatbot [data-testid='user'] p", "#chatbot [data-testid='bot'] p",
                  ".mr-card .mr-reason", ".mr-card .mr-genres", ".mr-cites", "#memory-table td", "#send", "#new-user",
                  ".mr-fb-row button", ".mr-header p"]


@pytest.fixture(scope="module")
def app(tmp_path_factory, tiny_dataset_dir):
    process = AppProcess(app_args(tmp_path_factory.mktemp("ui-browser") / "store", tiny_dataset_dir))
    yield process
    process.stop()


def shot(page, name: str, full_page: bool = True) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


def at_phone_width(page, name: str) -> None:
    """The same page at 400 px: nothing cut off or sideways-scrolling; a full-page screenshot."""
    page.set_viewport_size({"width": 400, "height": 900})
    page.wait_for_timeout(500)
    assert page.evaluate(CUT_OFF_JS) == []
    shot(page, name)
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.wait_for_timeout(300)


def current_user(page) -> str:
    return page.locator("#who code").first.inner_text(timeout=60_000).strip()


def check_contrast(page, theme: str) -> None:
    ratios = page.evaluate(CONTRAST_JS, TEXT_SELECTORS)
    measured = {k: v for k, v in ratios.items() if v is not None}
    assert len(measured) >= 5, ratios
    low = {k: round(v, 2) for k, v in measured.items() if v < 4.5}
    assert not low, f"text contrast below WCAG AA 4.5:1 in the {theme} theme: {low}"


def test_new_user_chat_feedback_memory_and_reload(app):
    from playwright.sync_api import expect, sync_playwright

    started = time.time()
    for old in SHOTS.glob("*.png"):  # only this run's screenshots in the folder
        old.unlink()
    dialogs: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            page = context.new_page()
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.set_default_timeout(60_000)

            page.goto(app.url)
            first_id = current_user(page)
            shot(page, "01-opened")

            # Start as a new user.
            page.get_by_role("button", name="Start as a new user").click()
            expect(page.locator("#who code").first).not_to_have_text(first_id)
            user = current_user(page)
            assert re.fullmatch(r"new-[0-9a-f]{12}", user), user

            # Tell it something to remember: HTML in a memory entry stays text.
            page.get_by_text("Edit, add or delete entries").click()
            page.get_by_label("Tell it something to remember").fill(MEMORY_NOTE)
            page.get_by_role("button", name="Remember this").click()
            table = page.locator("#memory-table")
            expect(table).to_contain_text(MEMORY_NOTE)

            # Send a request with the keyboard; Enter twice in a row must not send it twice.
            box = page.get_by_label("Your message")
            box.click()
            page.keyboard.press("Enter")  # an empty send: a hint in the box, nothing sent
            expect(page.locator("#message textarea")).to_have_attribute("placeholder", re.compile("Type a request first"))
            assert page.locator("#chatbot [data-testid='user']").count() == 0
            box.click()
            page.keyboard.type(REQUEST)
            page.keyboard.press("Enter")
            page.keyboard.press("Enter")
            chat = page.locator("#chatbot")
            expect(chat.get_by_text("Working").first).to_be_visible()
            shot(page, "02-streaming")
            cards = page.locator("#chatbot .mr-card")
            expect(cards.first).to_be_visible(timeout=150_000)
            expect(box).to_be_editable(timeout=60_000)  # the turn is over, input unlocked
            assert page.locator("#chatbot [data-testid='user']").count() == 1
            assert cards.count() >= 1
            for part in ("<script>alert('chat')</script>", "<img src=x onerror=alert(1)>", "**bold**"):
                expect(chat).to_contain_text(part)  # shown literally, not rendered
            assert chat.locator("script, img[src='x']").count() == 0

            # The trace: one collapsed thought whose title line says what happened; inside it the
            # memory search holds the remembered entry with its level and its id as a short chip.
            trace = chat.get_by_role("button", name=re.compile("Reasoning trace"))
            expect(trace).to_have_count(1)
            expect(trace).to_contain_text(re.compile(r"searched your memory (once|twice|\d+ times)"))
            search = chat.get_by_role("button", name=re.compile("Memory search"))
            expect(search).to_have_count(0)  # collapsed: the steps are hidden until it is opened
            shot(page, "03a-answer-trace-collapsed")
            at_phone_width(page, "03b-answer-400px")
            trace.click()
            expect(search.first).to_be_visible()
            search.first.click()  # open the search thought, then the retrieval nested in it
            chat.get_by_role("button", name=re.compile("Memory for")).first.click()
            expect(chat).to_contain_text("chat-learned")
            chip = chat.locator(f".mr-chip[title^='c:tiny-movies:{user}:']").first
            expect(chip).to_be_visible()
            assert re.fullmatch(r"chat \S{1,12}", chip.inner_text().strip()), chip.inner_text()
            expect(chat).to_contain_text("onerror=alert('memory')")
            shot(page, "03-answer-and-trace")
            card_title = cards.first.locator(".mr-card-title strong").inner_text()

            # 👎 on the first recommended item; it shows up in the memory panel.
            row = page.locator(".mr-fb-row").first
            title = row.locator("strong").first.inner_text()
            assert title == card_title
            row.get_by_role("button", name="👎 Not for me").click()
            expect(table).to_contain_text(f"Rejected {title}")
            expect(table.locator(".mr-chip[title^='b:tiny-movies:']").first).to_be_visible()
            expect(page.locator(".mr-fb-row").first).to_contain_text("not for you")
            check_contrast(page, "light")
            assert page.evaluate(UNLABELLED_JS) == []
            shot(page, "04-feedback-in-memory")

            # "something else": the same request again, none of the films already listed (the
            # session state carries each turn's items to the next turn).
            first_titles = [cards.nth(k).locator(".mr-card-title strong").inner_text() for k in range(cards.count())]
            box.click()
            page.keyboard.type("something else")
            page.keyboard.press("Enter")
            expect(page.locator("#chatbot [data-testid='user']")).to_have_count(2)
            expect(cards.nth(len(first_titles))).to_be_visible(timeout=150_000)
            expect(box).to_be_editable(timeout=60_000)
            again = [cards.nth(k).locator(".mr-card-title strong").inner_text()
                     for k in range(len(first_titles), cards.count())]
            assert again and not set(again) & set(first_titles), (first_titles, again)
            shot(page, "04b-something-else")

            # A click on a row puts the entry's full id (from its chip) and text into the editor.
            table.get_by_text("I love heist films").filter(visible=True).first.click()
            expect(page.locator("#memory-id textarea, #memory-id input").first).to_have_value(
                re.compile(rf"^c:tiny-movies:{user}:"))
            expect(page.locator("#memory-text textarea").first).to_have_value(MEMORY_NOTE)

            # The settings drawer: per-tab model info, top-k, rounds, trace switch.
            page.get_by_role("button", name="Toggle Sidebar").click()
            for label in ("Memory top-k", "Max reasoning rounds", "Show the reasoning trace"):
                expect(page.get_by_label(label).first).to_be_visible()
            expect(page.locator("#settings")).to_contain_text("needs a restart")
            shot(page, "05-settings")
            page.set_viewport_size({"width": 400, "height": 900})
            shot(page, "05b-settings-400px", full_page=False)
            page.set_viewport_size({"width": 1400, "height": 1000})
            page.get_by_role("button", name="Toggle Sidebar").click()

            # Reload: same user, same memory.
            page.reload()
            expect(page.locator("#who code").first).to_have_text(user)
            expect(table).to_contain_text(f"Rejected {title}")
            expect(table).to_contain_text(MEMORY_NOTE)
            expect(chat).to_contain_text("Welcome back")
            shot(page, "06-reloaded")

            # Dark theme: same user, readable.
            page.goto(app.url + "?__theme=dark")
            expect(page.locator("#who code").first).to_have_text(user)
            expect(table).to_contain_text(f"Rejected {title}")
            assert page.evaluate("document.body.classList.contains('dark')")
            check_contrast(page, "dark")
            shot(page, "07-dark")

            # Switch to a dataset user: their memory is built from their ratings.
            picker = page.get_by_label("Be a dataset user")
            picker.click()
            picker.fill("alice")
            option = page.get_by_text(re.compile(r"alice · 10 ratings · likes \w+"))  # a summary per user
            expect(option).to_be_visible()
            option.click()
            expect(page.locator("#who code").first).to_have_text("alice")
            expect(page.locator("#who")).to_contain_text("dataset user")
            expect(table.locator(".mr-chip[title='u:tiny-movies:alice:0']")).to_have_count(1)  # profile (virtualised table)
            expect(table).not_to_contain_text(MEMORY_NOTE)
            shot(page, "08-dataset-user-dark")

            # Forget me: a confirmation with two real buttons, destructive ones marked; afterwards the
            # memory is empty and a reload does not say "Welcome back".
            page.goto(app.url)
            expect(page.locator("#who code").first).to_have_text("alice")
            for name in ("Stop", "Forget me…"):
                assert "stop" in page.get_by_role("button", name=name).first.get_attribute("class")
            page.get_by_role("button", name="Forget me…").click()
            yes, cancel = page.get_by_role("button", name="Yes, forget me"), page.get_by_role("button", name="Cancel")
            expect(yes).to_be_visible()
            expect(cancel).to_be_visible()
            assert yes.evaluate("b => getComputedStyle(b).backgroundColor") != cancel.evaluate(
                "b => getComputedStyle(b).backgroundColor")
            shot(page, "09-forget-confirm")
            at_phone_width(page, "09b-forget-confirm-400px")
            yes.click()
            expect(chat).to_contain_text("Forgotten:")
            expect(page.locator("#memory-summary")).to_contain_text("0 entries")
            page.reload()
            expect(page.locator("#who code").first).to_have_text("alice")
            page.wait_for_timeout(1000)
            expect(chat).not_to_contain_text("Welcome back")
            shot(page, "10-after-forget-reloaded")
        finally:
            browser.close()
    assert dialogs == [], f"a script ran: {dialogs}"
    assert time.time() - started < 300
